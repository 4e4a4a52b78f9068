"""The media types of FHIR as it is received and answered (FHIR R4 §3.1.0.1.10 and the bulk data
NDJSON format): one home for the service, the routes and the initial load."""

FHIR_JSON = "application/fhir+json"
FHIR_NDJSON = "application/fhir+ndjson"
