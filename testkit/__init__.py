"""What the tests and the benchmarks share: FHIR samples, an MLLP client, a stand-in for Celery, free
ports and process groups, the real services' throw-away databases. Never shipped (the package list in
pyproject.toml leaves it out) and never imported by the service's own code."""
