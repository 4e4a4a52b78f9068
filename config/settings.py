"""Service settings, from the environment (``MYOCIT_*``) with an embedded default that needs nothing.

With no configuration the service keeps its data in ``myocit.sqlite`` of its home and passes Celery
messages through a SQLite-backed broker beside it: one machine, still real Celery with real worker
processes. The default home is one folder whatever the working folder (``default_home``), so every
command run on the machine finds the same data.
Set ``MYOCIT_DATABASE_URL`` (PostgreSQL) and ``MYOCIT_BROKER_URL`` (Redis) to run the parts separately.
"""

from __future__ import annotations

import os
import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EARLIER_DEFAULT_HOME = Path("var")
"""Where earlier versions kept the embedded data: ``./var`` of whatever folder a command ran in."""


def default_home() -> Path:
    """``$XDG_DATA_HOME/myocit``, else ``~/.local/share/myocit``: the same folder from any working folder."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "myocit"


class SettingsError(ValueError):
    """A setting that does not read; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MYOCIT_", extra="ignore")

    home: Path = Field(default_factory=default_home, description="Folder for the embedded database and broker "
                       "(default: ~/.local/share/myocit); a relative path is taken from the working folder.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite in `home`.")
    broker_url: str | None = Field(None, description="Celery broker URL; default: SQLite in `home`.")
    protocol_version: str = Field("myocit-2026-11", description="The protocol version used until one is "
                                  "activated (`myocit protocol activate`, stored in the database).")
    protocols: Path | None = Field(None, description="A folder of protocol version folders, found beside the "
                                   "shipped ones (contract §10).")
    protocol_refresh_seconds: float = Field(5.0, description="How long a process keeps the active protocol "
                                            "version before reading it again from the database.")
    timezone: str = Field("Europe/Paris", description="Where 'today' is decided for stored screenings.")
    language: Literal["en", "fr"] = Field(
        "en", description="The language of pages, alerts and reasons when the reader asks for none (contract §18).")
    today: date | None = Field(None, description="Fix 'today' (for rehearsals and tests); default: the real date.")
    max_body_bytes: int = 5_000_000
    max_segments_per_message: int = Field(2000, description="An HL7 v2 message with more segments is refused "
                                          "(AR) before it is parsed further (contract §6).")
    max_results_per_message: int = Field(1000, description="An HL7 v2 message with more OBX segments is "
                                         "refused (AR).")
    hl7_authorities: str = Field("", description="HL7 v2 assigning authorities (PID-3.4) mapped to "
                                 "identifier systems: 'NECKER=urn:oid:1.2.250.1.71.4.2.7,RDEBRE=urn:oid:...'.")
    evaluation_attempts: int = Field(4, description="Attempts at evaluating a patient before it is marked "
                                     "failed (until new data arrives).")
    evaluation_batch: int = Field(32, ge=1, description="Patients evaluated by one worker task at most "
                                  "(each under its own row lock and transaction).")
    drain_backlog: bool | None = Field(None, description="A worker's evaluation task goes on with every child "
                                       "still pending (a backlog screened at the engine's pace, not the "
                                       "broker's); default: on for the embedded default, off with a broker.")
    drain_seconds: float = Field(20.0, gt=0, description="How long one task drains the backlog at most before "
                                 "leaving the rest to the next task.")
    dispatch_window_ms: float = Field(5.0, ge=0, description="How long a process gathers the patients of "
                                      "concurrent messages into one evaluation task; 0 sends each message's "
                                      "task at once.")
    sweep_after_seconds: int = Field(30, description="Re-enqueue stored work not picked up after this long.")
    shadow_chunk_seconds: float = Field(60.0, description="A shadow run's chunk taken this long ago without a "
                                        "result (its worker was lost), or sent this long ago while no worker "
                                        "takes any, is sent again.")
    sweep_every_seconds: float = 10.0
    rescreen_every_seconds: float = 300.0
    heartbeat_every_seconds: float = Field(30.0, description="How often the scheduler looks for FHIR "
                                           "subscriptions due a heartbeat (contract §16).")
    base_url: str = "http://127.0.0.1:8000"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        "none", description="'starttls' upgrades a plain connection (usually port 587); 'tls' is TLS from "
        "the first byte (usually port 465).")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ca_file: Path | None = Field(None, description="PEM file of the CA(s) to trust for the SMTP server "
                                      "(a hospital's internal CA); default: the system's")
    mail_from: str = "myocit@localhost"
    webhook_timeout_seconds: float = 5.0
    http_header_seconds: float = Field(10.0, gt=0, description="An HTTP connection whose request line and "
                                       "headers are not complete this long after it opens (or after its "
                                       "previous answer) is closed: bytes trickling in do not keep it open.")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field("text", description="'json': one JSON object a line, each with "
                                                "its request_id (contract §12).")
    mllp_host: str = Field("127.0.0.1", description="Interface the MLLP listener binds (contract §6).")
    mllp_port: int = Field(2575, description="MLLP port.")
    mllp_allow: str = Field("127.0.0.1,::1", description="Addresses or CIDR ranges allowed to connect over MLLP, "
                            "comma-separated; others are closed at once and logged. Default: loopback only.")
    mllp_idle_seconds: float = Field(300.0, description="An MLLP connection whose frame does not complete this "
                                     "long after its first byte (or silent this long between messages) is closed.")
    mllp_max_connections: int = Field(64, description="MLLP connections beyond this many at once are closed at "
                                      "once and logged.")
    mllp_tls_cert: Path | None = Field(None, description="PEM certificate chain: MLLP over TLS (with _KEY).")
    mllp_tls_key: Path | None = None
    mllp_tls_client_ca: Path | None = Field(None, description="PEM CA(s): MLLP clients must present a "
                                            "certificate it signed.")
    ui_secret: str | None = Field(None, description="Signs the pages' session cookies; default: a secret "
                                  "generated once in `home/ui-secret` (set it when API hosts share no home).")
    oidc_issuer: str | None = Field(None, description="The hospital's OpenID provider (contract §14); its "
                                    "discovery is at `{issuer}/.well-known/openid-configuration`.")
    oidc_client_id: str | None = Field(None, description="myocit's client id at the provider.")
    oidc_client_secret: str | None = Field(None, description="myocit's client secret, sent as "
                                           "`client_secret_basic`.")
    oidc_scopes: str = Field("openid profile email", description="The scopes asked for at sign-in.")
    oidc_groups_claim: str = Field("groups", description="The claim naming the person's groups (ID token, "
                                   "else userinfo), matched by `myocit access map`.")
    oidc_label: str = Field("Sign in with the hospital account", description="The words of the sign-in button.")
    ui_token_signin: bool | None = Field(None, description="Offer pasting a token on the sign-in page; "
                                         "default: only when no OpenID provider is configured.")

    pseudonym_key: SecretStr | None = Field(None, description="The key of the keyed hashes of data "
                                            "protection (contract §17): objection tombstones and the monitor's "
                                            "pseudonyms. Required once they are used; on the embedded default, "
                                            "generated once in `home/pseudonym-key` (0600).")
    pseudonym_old_keys: SecretStr | None = Field(None, description="Earlier pseudonym keys, comma-separated, "
                                                 "after a rotation: tombstones written under them are checked "
                                                 "until `myocit tombstones rekey` rewrites them.")
    retention_days: int = Field(730, ge=0, description="Children never enrolled whose latest message and latest "
                                "fact are older than this are purged (contract §17).")
    purge_every_seconds: float = Field(86400.0, description="How often the scheduler runs the retention purge.")

    @field_validator("home")
    @classmethod
    def _absolute(cls, home: Path) -> Path:
        # Absolute once read, so what is printed and what every child process opens is one folder.
        return Path(os.path.abspath(home.expanduser()))

    @property
    def home_is_default(self) -> bool:
        return "home" not in self.model_fields_set

    def authority_systems(self) -> dict[str, str]:
        """``MYOCIT_HL7_AUTHORITIES`` as a mapping; SettingsError naming the entry that does not read."""
        mapping: dict[str, str] = {}
        for entry in filter(None, (e.strip() for e in self.hl7_authorities.split(","))):
            authority, sep, system = (part.strip() for part in entry.partition("="))
            if not sep or not authority or not system:
                raise SettingsError(f"MYOCIT_HL7_AUTHORITIES: {entry!r} is not AUTHORITY=SYSTEM")
            mapping[authority] = system
        return mapping

    def mllp_networks(self) -> list:
        """``MYOCIT_MLLP_ALLOW`` as networks (an address is a network of one); SettingsError naming the
        entry that does not read."""
        import ipaddress

        networks = []
        for entry in filter(None, (e.strip() for e in self.mllp_allow.split(","))):
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise SettingsError(f"MYOCIT_MLLP_ALLOW: {entry!r} is not an address or CIDR range") from None
        return networks

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'myocit.sqlite').resolve()}"

    def resolved_broker_url(self) -> str:
        if self.broker_url:
            return self.broker_url
        return f"sqla+sqlite:///{(self.home / 'broker.sqlite').resolve()}"

    def resolved_ui_secret(self) -> str:
        if self.ui_secret:
            return self.ui_secret
        return self._generated_once("ui-secret")

    def resolved_pseudonym_key(self) -> str:
        """``MYOCIT_PSEUDONYM_KEY``; on the embedded default, a key generated once in the home (0600).
        A deployment with its own database must set it: ``SettingsError`` naming it otherwise."""
        if self.pseudonym_key is not None and self.pseudonym_key.get_secret_value().strip():
            return self.pseudonym_key.get_secret_value().strip()
        if not self.embedded:
            raise SettingsError("MYOCIT_PSEUDONYM_KEY is required (objections, purges and the monitor's "
                                "pseudonyms use it): set it to a long random secret kept outside the database "
                                "(docs/data-protection.md)")
        return self._generated_once("pseudonym-key")

    def resolved_old_pseudonym_keys(self) -> list[str]:
        if self.pseudonym_old_keys is None:
            return []
        return [k.strip() for k in self.pseudonym_old_keys.get_secret_value().split(",") if k.strip()]

    def _generated_once(self, name: str) -> str:
        path = self.home / name
        if not path.exists():
            self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
            draft = path.with_name(f".{name}.{os.getpid()}")
            with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                # A hard link appears whole or not at all: API processes starting together all end up
                # with the first one's secret, never a half-written file.
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text().strip()

    @property
    def oidc_configured(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def token_signin_offered(self) -> bool:
        """``MYOCIT_UI_TOKEN_SIGNIN``, defaulting to true exactly when no provider is configured."""
        return (not self.oidc_configured) if self.ui_token_signin is None else self.ui_token_signin

    @property
    def oidc_redirect_uri(self) -> str:
        return f"{self.base_url.rstrip('/')}/ui/oidc/callback"

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def drains_backlog(self) -> bool:
        return self.embedded if self.drain_backlog is None else self.drain_backlog


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
