"""myocit: the service's entry points (command line, bootstrap)."""
