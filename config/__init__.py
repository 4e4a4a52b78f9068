"""Configuration: service settings from the environment, and the protocol as versioned data files."""
