"""The MLLP adapter (contract §6): HL7 v2 over TCP from hospital lab systems and interface engines."""
