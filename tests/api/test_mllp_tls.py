"""MLLP over TLS (contract §6), with and without client certificates: a throwaway CA and certificates
made with the openssl command line for each test."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess

import pytest

from mllp.server import tls_context
from tests.api.test_mllp import listen, loop, rt, world  # noqa: F401 - the same fixtures
from tests.mllp_client import msa, oru, send

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command line")


def _openssl(*args: str, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """ca.pem; server.pem/key (for 127.0.0.1); client.pem/key signed by the CA; rogue.pem/key self-signed.
    Made once per module: the tests only read them."""
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=test CA", cwd=d)
    for name, extra in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=d)
        (d / f"{name}.ext").write_text(extra + "\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out", "rogue.pem", "-days",
             "2", "-subj", "/CN=rogue", cwd=d)
    return d


class _Settings:
    def __init__(self, pki, client_ca: bool) -> None:
        self.mllp_tls_cert, self.mllp_tls_key = pki / "server.pem", pki / "server.key"
        self.mllp_tls_client_ca = pki / "ca.pem" if client_ca else None


def _client(pki, cert: str | None):
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if cert:
        context.load_cert_chain(pki / f"{cert}.pem", pki / f"{cert}.key")

    def wrap(port: int):
        return context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=60),
                                   server_hostname="127.0.0.1")
    return wrap


def test_tls_without_client_certificates(world, listen, pki):
    listener = listen(tls=tls_context(_Settings(pki, client_ca=False)))
    with _client(pki, None)(listener.port) as sock:
        (ack,) = send(sock, oru("A-222^^^NECKER^MR", control="T-1"))
    assert msa(ack) == ("AA", "T-1")


def test_tls_with_client_certificates_required(world, listen, pki):
    listener = listen(tls=tls_context(_Settings(pki, client_ca=True)))
    with _client(pki, "client")(listener.port) as sock:
        (ack,) = send(sock, oru("A-222^^^NECKER^MR", control="T-2"))
    assert msa(ack) == ("AA", "T-2")
    for cert in (None, "rogue"):
        with pytest.raises((ssl.SSLError, ConnectionError, AssertionError)):
            with _client(pki, cert)(listener.port) as sock:
                send(sock, oru("A-222^^^NECKER^MR", control="T-3"))
