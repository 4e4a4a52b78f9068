"""The hospital OpenID provider's endpoints over HTTPS (``service.oidc.ProviderHttp``): JSON documents
(discovery, JWKS, userinfo) and the token endpoint, authenticated as ``client_secret_basic``."""

from __future__ import annotations

import httpx

TIMEOUT_SECONDS = 10.0


class HttpxProviderHttp:
    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self.timeout = timeout

    def get_json(self, url: str, bearer: str | None = None) -> dict:
        headers = {"Accept": "application/json"} | ({"Authorization": f"Bearer {bearer}"} if bearer else {})
        response = httpx.get(url, headers=headers, timeout=self.timeout)
        response.raise_for_status()
        found = response.json()
        if not isinstance(found, dict):
            raise ValueError("the provider did not answer a JSON object")
        return found

    def post_form(self, url: str, form: dict[str, str], basic: tuple[str, str]) -> dict:
        # client_secret_basic: RFC 6749 §2.3.1 form-encodes both parts before the Basic scheme.
        from urllib.parse import quote

        auth = httpx.BasicAuth(quote(basic[0], safe=""), quote(basic[1], safe=""))
        response = httpx.post(url, data=form, auth=auth, headers={"Accept": "application/json"},
                              timeout=self.timeout)
        response.raise_for_status()
        found = response.json()
        if not isinstance(found, dict):
            raise ValueError("the provider did not answer a JSON object")
        return found
