"""A real OpenID Connect provider for the sign-in tests (contract §14): the npm package
``oidc-provider`` run by Node.js from ``tests/oidc/provider.mjs``. Importable helpers and a fixture;
no tests here.

When Node.js, npm or the package is missing, the tests that use it skip on a developer machine and
fail in CI (``MYOCIT_REQUIRE_SERVICES=1``), as the PostgreSQL and Redis tests do."""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests import services
from tests.processes import free_port, stop_group

PART = "the test OpenID provider"
"""What a skip or failure names when it cannot run (``services.cannot_run``)."""

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
PROVIDER_SCRIPT = OIDC_DIR / "provider.mjs"
READY_SECONDS = 30
NPM_CI_SECONDS = 300


def ensure_installed() -> str:
    """The path of ``node``, after ``npm ci`` in tests/oidc when its packages are not there yet."""
    node = shutil.which("node")
    if node is None:
        services.cannot_run(PART, "node is not on PATH")
    if not (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            services.cannot_run(PART, "npm is not on PATH and tests/oidc/node_modules is missing")
        try:
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=OIDC_DIR,
                check=True,
                capture_output=True,
                text=True,
                timeout=NPM_CI_SECONDS,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            services.cannot_run(PART, f"npm ci in tests/oidc failed ({exc}): {getattr(exc, 'stderr', '')}")
    return node


@dataclass
class Account:
    """Someone who can sign in at the provider: the provider's login form takes ``sub`` as login."""

    sub: str
    name: str
    email: str
    groups: list[str] = field(default_factory=list)


@dataclass
class OidcProvider:
    """A running provider: its issuer, the one confidential client registered in it, and its
    accounts (``write_accounts`` replaces them; the provider reads them at every sign-in)."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    accounts_path: Path

    def write_accounts(self, accounts: list[Account]) -> None:
        document = {a.sub: {"name": a.name, "email": a.email, "groups": a.groups} for a in accounts}
        self.accounts_path.write_text(json.dumps(document), encoding="utf-8")

    def discovery(self) -> dict:
        response = httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        return response.json()

    def add_signing_key(self, replace: bool = False) -> str:
        """A new RS256 key that signs every token from now on; its ``kid``. The earlier keys stay
        published in the JWKS unless ``replace``."""
        url = f"{self.issuer}/__test__/keys" + ("?replace" if replace else "")
        response = httpx.post(url, timeout=30)
        response.raise_for_status()
        return response.json()["kid"]

    def signing_kids(self) -> list[str]:
        """The published keys' ``kid``s, the signing key first."""
        response = httpx.get(f"{self.issuer}/__test__/keys", timeout=10)
        response.raise_for_status()
        return response.json()["kids"]


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


@contextmanager
def running_provider(
    directory: Path,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str] = (),
    accounts: list[Account] = (),
    ttls: dict[str, int] | None = None,
    client_id: str = "myocit",
) -> Iterator[OidcProvider]:
    """Start the provider on a free port of 127.0.0.1, wait for its "ready" line, stop it after.
    ``ttls`` shortens lifetimes by oidc-provider's names (``IdToken``, ``Session``,
    ``AuthorizationCode``, ``AccessToken``, ``Interaction``, ``Grant``) in seconds."""
    node = ensure_installed()
    port = free_port()
    provider = OidcProvider(
        issuer=f"http://127.0.0.1:{port}",
        client_id=client_id,
        client_secret=secrets.token_urlsafe(24),
        redirect_uris=list(redirect_uris),
        post_logout_redirect_uris=list(post_logout_redirect_uris),
        accounts_path=directory / "oidc-accounts.json",
    )
    provider.write_accounts(list(accounts))
    command = [
        node,
        str(PROVIDER_SCRIPT),
        "--port",
        str(port),
        "--issuer",
        provider.issuer,
        "--client-id",
        provider.client_id,
        "--accounts",
        str(provider.accounts_path),
    ]
    for uri in provider.redirect_uris:
        command += ["--redirect-uri", uri]
    for uri in provider.post_logout_redirect_uris:
        command += ["--post-logout-redirect-uri", uri]
    for name, seconds in (ttls or {}).items():
        command += ["--ttl", f"{name}={seconds}"]
    # The secret goes by the environment, not the command line other users can list.
    environment = {**os.environ, "OIDC_CLIENT_SECRET": provider.client_secret}
    process = subprocess.Popen(
        command,
        cwd=OIDC_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_lines, args=(process.stdout, output), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        while True:
            try:
                line = output.get(timeout=READY_SECONDS)
            except queue.Empty:
                services.cannot_run(PART, f"no ready line within {READY_SECONDS} s: {''.join(seen)}")
            if line is None:
                services.cannot_run(PART, f"provider.mjs exited ({process.wait()}): {''.join(seen)}")
            seen.append(line)
            if line.startswith("ready "):
                break
        yield provider
    finally:
        stop_group(process, timeout=10)
        reader.join(timeout=10)
        process.stdout.close()


@pytest.fixture()
def oidc_provider(tmp_path: Path) -> Iterator[OidcProvider]:
    """A provider with no accounts yet (``write_accounts`` names them) whose client comes back to
    http://127.0.0.1/ui/oidc/callback. Tests that run the service on a port of its own, or need
    short lifetimes, use ``running_provider`` with their own redirect URIs."""
    with running_provider(
        tmp_path,
        redirect_uris=["http://127.0.0.1/ui/oidc/callback"],
        post_logout_redirect_uris=["http://127.0.0.1/ui/login"],
    ) as provider:
        yield provider
