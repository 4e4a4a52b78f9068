"""An EHR's endpoints over HTTP(S) for the CDS Hooks service (``service.ports.JsonOverHttp``): its JWKS
and, when a request carries no prefetch, the Patient from its FHIR server with its access token."""

from __future__ import annotations

import httpx

TIMEOUT_SECONDS = 10.0


class HttpxJson:
    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self.timeout = timeout

    def get_json(self, url: str, bearer: str | None = None, timeout: float | None = None) -> dict:
        headers = {"Accept": "application/json, application/fhir+json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        response = httpx.get(url, headers=headers, timeout=timeout or self.timeout, follow_redirects=False)
        response.raise_for_status()
        found = response.json()
        if not isinstance(found, dict):
            raise ValueError("the answer is not a JSON object")
        return found
