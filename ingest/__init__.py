"""Ingestion: FHIR R4 resources and HL7 v2 messages turned into domain facts (parsing lives here only)."""
