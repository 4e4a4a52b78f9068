"""The HTTP layer: the contract API (FastAPI) and the coordinators' pages."""
