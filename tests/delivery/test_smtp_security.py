"""Email over TLS with a login, against real local aiosmtpd servers holding a self-signed certificate
for 127.0.0.1: STARTTLS, implicit TLS, a refused password, an untrusted certificate, and credentials
that are never sent in the clear."""

from __future__ import annotations

import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from config.settings import Settings
from delivery.email import send_email
from delivery.errors import DeliveryError
from delivery.messages import Message
from tests.delivery.conftest import Inbox
from tests.processes import free_port

USER, PASSWORD = "myocit-relay", "s3cret-Tr0ub4dor"
TO = "coordinator@site.example.org"
MESSAGE = Message(subject="MYOCIT screening p-001: waiting → eligible",
                  text="The MYOCIT screening p-001 changed: waiting → eligible.", data={})


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture()
def server_ctx(certificate):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class Authenticator:
    """Accepts USER/PASSWORD and remembers every login offered."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes, bytes]] = []

    def __call__(self, _server, _session, _envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        self.seen.append((mechanism, auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
        # handled=False lets aiosmtpd answer the refusal itself (535).
        return AuthResult(success=ok, handled=False)


@pytest.fixture()
def serve():
    """Starts aiosmtpd servers on 127.0.0.1 and stops them all after the test; returns the port."""
    controllers: list[Controller] = []

    def start(inbox: Inbox, **options) -> int:
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
        controller.start()
        controllers.append(controller)
        return controller.port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture()
def starttls_server(serve, server_ctx):
    inbox, authenticator = Inbox(), Authenticator()
    inbox.port = serve(inbox, tls_context=server_ctx, require_starttls=True,
                       authenticator=authenticator, auth_require_tls=True)
    inbox.authenticator = authenticator
    return inbox


@pytest.fixture()
def tls_server(serve, server_ctx):
    inbox, authenticator = Inbox(), Authenticator()
    # aiosmtpd counts only STARTTLS as TLS; here the whole connection is, so AUTH may be offered at once.
    inbox.port = serve(inbox, ssl_context=server_ctx, authenticator=authenticator, auth_require_tls=False)
    inbox.authenticator = authenticator
    return inbox


def settings(port: int, **fields) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=port, mail_from="myocit@screening.example.org",
                    webhook_timeout_seconds=3, **fields)


def test_starttls_with_a_login_delivers_the_mail(starttls_server, certificate):
    send_email(MESSAGE, TO, settings(starttls_server.port, smtp_security="starttls", smtp_username=USER,
                                     smtp_password=PASSWORD, smtp_ca_file=certificate[0]))
    [mail] = starttls_server.mails
    assert (mail.sender, mail.to, mail.subject) == ("myocit@screening.example.org", [TO], MESSAGE.subject)
    assert [(login, password) for _, login, password in starttls_server.authenticator.seen] == [
        (USER.encode(), PASSWORD.encode())]


def test_implicit_tls_delivers_the_mail(tls_server, certificate):
    send_email(MESSAGE, TO, settings(tls_server.port, smtp_security="tls", smtp_ca_file=certificate[0]))
    [mail] = tls_server.mails
    assert (mail.to, mail.subject) == ([TO], MESSAGE.subject)
    assert tls_server.authenticator.seen == []


def test_implicit_tls_with_a_login_delivers_the_mail(tls_server, certificate):
    send_email(MESSAGE, TO, settings(tls_server.port, smtp_security="tls", smtp_username=USER,
                                     smtp_password=PASSWORD, smtp_ca_file=certificate[0]))
    assert [mail.to for mail in tls_server.mails] == [[TO]]
    assert {login for _, login, _ in tls_server.authenticator.seen} == {USER.encode()}


def test_a_wrong_password_is_reported_by_its_code_without_the_password(starttls_server, certificate):
    wrong = "not-the-Tr0ub4dor"
    with pytest.raises(DeliveryError) as caught:
        send_email(MESSAGE, TO, settings(starttls_server.port, smtp_security="starttls", smtp_username=USER,
                                         smtp_password=wrong, smtp_ca_file=certificate[0]))
    assert str(caught.value) == "SMTP server answered 535"
    assert wrong not in str(caught.value) and USER not in str(caught.value)
    assert starttls_server.authenticator.seen  # the server did get the login, and refused it
    assert starttls_server.mails == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_server_certificate_not_trusted_stops_the_delivery(request, security):
    server = request.getfixturevalue(f"{security}_server")
    with pytest.raises(DeliveryError, match="^SMTP failed: ") as caught:
        send_email(MESSAGE, TO, settings(server.port, smtp_security=security, smtp_username=USER,
                                         smtp_password=PASSWORD))
    assert isinstance(caught.value.__cause__, ssl.SSLError)
    assert server.authenticator.seen == [] and server.mails == []


def test_credentials_are_never_sent_without_tls():
    nobody = free_port()  # a connection attempt would fail with ConnectionRefusedError instead
    with pytest.raises(DeliveryError, match="without TLS") as caught:
        send_email(MESSAGE, TO, settings(nobody, smtp_username=USER, smtp_password=PASSWORD))
    assert "MYOCIT_SMTP_SECURITY" in str(caught.value) and caught.value.__cause__ is None


def test_plain_smtp_without_credentials_still_works(smtp):
    send_email(MESSAGE, TO, settings(smtp.port))
    assert [mail.subject for mail in smtp.mails] == [MESSAGE.subject]


def test_the_password_never_shows_in_the_settings():
    configured = Settings(smtp_password="s3cret", smtp_username=USER)
    assert "s3cret" not in repr(configured) and "s3cret" not in str(configured)
    assert configured.smtp_password is not None and configured.smtp_password.get_secret_value() == "s3cret"


def test_the_security_defaults_to_none_and_accepts_only_known_modes():
    assert Settings().smtp_security == "none"
    with pytest.raises(ValueError, match="smtp_security"):
        Settings(smtp_security="ssl")
