"""The test OpenID provider (tests/oidc) behaves as a hospital's provider does for contract §14:
discovery, an authorization-code flow with PKCE through its own login and consent forms, ID tokens
signed with RS256 keys published in its JWKS and carrying the groups claim, key rotation."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import jwt
import pytest

from tests.oidc_provider import Account, OidcProvider, running_provider

REDIRECT_URI = "http://127.0.0.1/ui/oidc/callback"
LOGIN_PAGE = "http://127.0.0.1/ui/login"
NURSE = Account(sub="nurse-1", name="Test Nurse", email="nurse@example.org", groups=["myocit-coordinators"])


@pytest.fixture()
def provider(tmp_path):
    with running_provider(
        tmp_path, redirect_uris=[REDIRECT_URI], post_logout_redirect_uris=[LOGIN_PAGE], accounts=[NURSE]
    ) as running:
        yield running


def form_action(page: httpx.Response) -> str:
    match = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert match, page.text
    return urljoin(str(page.url), unescape(match.group(1)))


def follow_to_callback(browser: httpx.Client, response: httpx.Response) -> httpx.Response:
    """Follow the provider's redirects until a page to fill in, or the redirect back to us."""
    while response.is_redirect:
        location = urljoin(str(response.url), response.headers["location"])
        if location.startswith((REDIRECT_URI, LOGIN_PAGE)):
            return response
        response = browser.get(location)
    return response


def sign_in(
    provider: OidcProvider,
    account: Account,
    scope: str = "openid profile email",
    browser: httpx.Client | None = None,
) -> dict:
    """The whole code flow as a browser and a relying party do it; the token endpoint's answer."""
    if browser is None:
        with httpx.Client(timeout=30) as fresh_browser:
            return sign_in(provider, account, scope, fresh_browser)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    endpoints = provider.discovery()
    page = follow_to_callback(
        browser,
        browser.get(
            endpoints["authorization_endpoint"],
            params={
                "client_id": provider.client_id,
                "redirect_uri": REDIRECT_URI,
                "response_type": "code",
                "scope": scope,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        ),
    )
    assert 'name="login"' in page.text, page.text
    page = follow_to_callback(
        browser,
        browser.post(
            form_action(page),
            data={
                "prompt": "login",
                "login": account.sub,
                "password": "any",
            },
        ),
    )
    if not page.is_redirect:  # the consent form
        assert 'name="prompt" value="consent"' in page.text, page.text
        page = follow_to_callback(browser, browser.post(form_action(page), data={"prompt": "consent"}))
    callback = parse_qs(urlparse(page.headers["location"]).query)
    assert callback["state"] == [state]
    assert callback["iss"] == [provider.issuer]
    token = httpx.post(
        endpoints["token_endpoint"],
        auth=(provider.client_id, provider.client_secret),
        data={
            "grant_type": "authorization_code",
            "code": callback["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        timeout=30,
    )
    assert token.status_code == 200, token.text
    return {**token.json(), "nonce": nonce}


def verified_claims(provider: OidcProvider, id_token: str) -> dict:
    jwks = jwt.PyJWKSet.from_dict(httpx.get(provider.discovery()["jwks_uri"], timeout=10).json())
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    return jwt.decode(
        id_token,
        key=key,
        algorithms=["RS256"],
        audience=provider.client_id,
        issuer=provider.issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
    )


def test_discovery_names_the_endpoints_a_relying_party_needs(provider):
    document = provider.discovery()

    assert document["issuer"] == provider.issuer
    for endpoint in (
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
        "end_session_endpoint",
    ):
        assert document[endpoint].startswith(provider.issuer + "/"), endpoint
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "client_secret_basic" in document["token_endpoint_auth_methods_supported"]
    assert "RS256" in document["id_token_signing_alg_values_supported"]


def test_code_flow_with_pkce_gives_a_signed_id_token_with_the_groups(provider):
    tokens = sign_in(provider, NURSE)

    assert jwt.get_unverified_header(tokens["id_token"])["alg"] == "RS256"
    claims = verified_claims(provider, tokens["id_token"])
    assert claims["sub"] == NURSE.sub
    assert claims["nonce"] == tokens["nonce"]
    assert claims["groups"] == NURSE.groups
    assert claims["name"] == NURSE.name
    userinfo = httpx.get(
        provider.discovery()["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).json()
    assert userinfo["groups"] == NURSE.groups


def test_the_provider_refuses_a_code_request_without_pkce(provider):
    response = httpx.get(
        provider.discovery()["authorization_endpoint"],
        params={
            "client_id": provider.client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "openid",
            "state": "s",
            "nonce": "n",
        },
        timeout=10,
    )

    back = parse_qs(urlparse(response.headers["location"]).query)
    assert back["error"] == ["invalid_request"]
    assert "PKCE" in back["error_description"][0]


def test_accounts_are_read_again_at_each_sign_in(provider):
    provider.write_accounts([Account(NURSE.sub, NURSE.name, NURSE.email, groups=["myocit-monitors"])])

    claims = verified_claims(provider, sign_in(provider, NURSE)["id_token"])

    assert claims["groups"] == ["myocit-monitors"]


def test_a_new_key_signs_the_next_tokens_and_is_published_beside_the_old_one(provider):
    first = jwt.get_unverified_header(sign_in(provider, NURSE)["id_token"])["kid"]

    added = provider.add_signing_key()
    tokens = sign_in(provider, NURSE)

    assert added != first
    assert jwt.get_unverified_header(tokens["id_token"])["kid"] == added
    assert provider.signing_kids() == [added, first]
    assert verified_claims(provider, tokens["id_token"])["sub"] == NURSE.sub


def test_a_replacing_key_leaves_only_itself_in_the_jwks(provider):
    first = provider.signing_kids()[0]

    added = provider.add_signing_key(replace=True)

    published = [k["kid"] for k in httpx.get(provider.discovery()["jwks_uri"], timeout=10).json()["keys"]]
    assert published == [added] and first not in published


def test_sign_out_at_the_end_session_endpoint_comes_back_to_the_login_page(provider):
    with httpx.Client(timeout=30) as browser:
        tokens = sign_in(provider, NURSE, browser=browser)
        page = follow_to_callback(
            browser,
            browser.get(
                provider.discovery()["end_session_endpoint"],
                params={
                    "id_token_hint": tokens["id_token"],
                    "post_logout_redirect_uri": LOGIN_PAGE,
                    "state": "bye",
                },
            ),
        )
        assert not page.is_redirect, "the provider asks before it signs someone out"
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
        back = browser.post(form_action(page), data={**fields, "logout": "yes"})

        assert back.is_redirect
        assert back.headers["location"] == f"{LOGIN_PAGE}?state=bye"
        again = browser.get(
            provider.discovery()["authorization_endpoint"],
            params={
                "client_id": provider.client_id,
                "redirect_uri": REDIRECT_URI,
                "response_type": "code",
                "scope": "openid",
                "state": "s",
                "nonce": "n",
                "code_challenge": "x" * 43,
                "code_challenge_method": "S256",
            },
        )
        assert 'name="login"' in follow_to_callback(browser, again).text, "the session at the provider ended"
