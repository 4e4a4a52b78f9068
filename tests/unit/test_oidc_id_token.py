"""The ID token checks of contract §14, as a table: signature against the provider's JWKS (fetched
again on an unknown ``kid``), ``alg`` ``none`` refused, ``iss``, ``aud``, ``exp``, ``iat``, ``nonce``.
The provider's HTTP is a stand-in here; tests/integration/test_oidc_sign_in.py runs a real one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from service.oidc import OidcSettings, Provider, SignInFailed, checked_id_token

ISSUER = "https://idp.example.org/realms/hospital"
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def new_key(kid: str):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return private, {**public, "kid": kid, "use": "sig", "alg": "RS256"}


class ProviderStandIn:
    def __init__(self, *jwks: dict) -> None:
        self.published, self.fetched = list(jwks), 0

    def get_json(self, url, bearer=None):
        if url.endswith("/.well-known/openid-configuration"):
            return {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/certs", "token_endpoint": f"{ISSUER}/token",
                    "authorization_endpoint": f"{ISSUER}/auth"}
        self.fetched += 1
        return {"keys": self.published}

    def post_form(self, url, form, basic):
        raise AssertionError("not used")


SETTINGS = OidcSettings(ISSUER, "myocit", "secret", "openid", "groups", "https://myocit/ui/oidc/callback",
                        "https://myocit/ui/login")
KEY, JWK = new_key("k1")
OTHER, _ = new_key("k1")
LATER, LATER_JWK = new_key("k2")
CLAIMS = {"iss": ISSUER, "aud": "myocit", "sub": "nurse-1", "nonce": "n-1", "iat": int(NOW.timestamp()) - 5,
          "exp": int(NOW.timestamp()) + 300}


def signed(key=KEY, kid="k1", **changes) -> str:
    return jwt.encode({**CLAIMS, **changes}, key, algorithm="RS256", headers={"kid": kid})


@pytest.mark.parametrize(("token", "reason"), [
    (signed(nonce="n-2"), "nonce-mismatch"),
    (signed(exp=int(NOW.timestamp()) - 120), "id-token-expired"),
    (signed(iat=int(NOW.timestamp()) + 600), "id-token-invalid"),
    (signed(iss="https://elsewhere.example.org"), "id-token-invalid"),
    (signed(aud="another-client"), "id-token-invalid"),
    (signed(OTHER), "id-token-invalid"),
    (signed(kid="k9"), "unknown-key"),
    (jwt.encode(CLAIMS, None, algorithm="none", headers={"kid": "k1"}), "id-token-invalid"),
    (jwt.encode(CLAIMS, "a-secret-shared-with-the-client-only-32b", algorithm="HS256", headers={"kid": "k1"}), "id-token-invalid"),
    ("not-a-token", "id-token-invalid"),
])
def test_an_id_token_that_does_not_hold_is_refused(token, reason):
    with pytest.raises(SignInFailed) as refused:
        checked_id_token(Provider(SETTINGS, ProviderStandIn(JWK)), token, "n-1", NOW)
    assert refused.value.reason == reason and "sign in again" in refused.value.sentence.lower()


def test_a_good_token_is_accepted_and_a_new_key_is_fetched_once_named():
    http = ProviderStandIn(JWK)
    provider = Provider(SETTINGS, http)
    assert checked_id_token(provider, signed(), "n-1", NOW)["sub"] == "nurse-1"
    assert checked_id_token(provider, signed(), "n-1", NOW)["sub"] == "nurse-1" and http.fetched == 1
    http.published.append(LATER_JWK)
    assert checked_id_token(provider, signed(LATER, "k2"), "n-1", NOW)["sub"] == "nurse-1" and http.fetched == 2


def test_a_discovery_without_its_endpoints_or_unreadable_keys_is_a_sentence_not_a_crash():
    class Incomplete(ProviderStandIn):
        def get_json(self, url, bearer=None):
            if url.endswith("/.well-known/openid-configuration"):
                return {"issuer": ISSUER}
            return {"keys": "none"}

    with pytest.raises(SignInFailed) as refused:
        checked_id_token(Provider(SETTINGS, Incomplete()), signed(), "n-1", NOW)
    assert refused.value.reason == "discovery-incomplete"

    class Unreadable(ProviderStandIn):
        def get_json(self, url, bearer=None):
            return super().get_json(url, bearer) if url.endswith("configuration") else {"keys": [{"kty": "??"}]}

    with pytest.raises(SignInFailed) as refused:
        checked_id_token(Provider(SETTINGS, Unreadable()), signed(), "n-1", NOW)
    assert refused.value.reason in ("jwks-unreadable", "unknown-key")


@pytest.mark.parametrize(("issuer", "client", "token_signin", "offered"), [
    (None, None, None, True), (ISSUER, "myocit", None, False), (ISSUER, "myocit", True, True),
    (None, None, False, False),
])
def test_the_token_form_is_offered_by_default_only_without_a_provider(tmp_path, issuer, client, token_signin,
                                                                      offered):
    from config.settings import Settings

    settings = Settings(home=tmp_path, oidc_issuer=issuer, oidc_client_id=client, ui_token_signin=token_signin,
                        base_url="https://myocit.example/")
    assert settings.token_signin_offered is offered
    assert settings.oidc_redirect_uri == "https://myocit.example/ui/oidc/callback"
