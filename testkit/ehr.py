"""An EHR as the CDS Hooks service sees it (contract §15), for tests and benchmarks: its signing keys
(RSA or EC), the JWTs it signs its calls with, and a small HTTP server on 127.0.0.1 publishing its
JWKS and answering ``GET /fhir/Patient/{id}`` from the Patients it holds (optionally slowly, or not at
all). Real HTTP and real signatures: nothing of the service is stood in for."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ALGORITHMS = {"RS256": "rsa", "RS384": "rsa", "ES256": ec.SECP256R1, "ES384": ec.SECP384R1}


class SigningKey:
    def __init__(self, alg: str = "RS256", kid: str | None = None) -> None:
        self.alg, self.kid = alg, kid or uuid.uuid4().hex[:12]
        curve = ALGORITHMS[alg]
        self.private = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if curve == "rsa"
                        else ec.generate_private_key(curve()))

    def public_jwk(self) -> dict:
        algorithm = jwt.algorithms.RSAAlgorithm if self.alg.startswith("RS") else jwt.algorithms.ECAlgorithm
        jwk = json.loads(algorithm.to_jwk(self.private.public_key()))
        return jwk | {"kid": self.kid, "alg": self.alg, "use": "sig"}


class Ehr:
    """An EHR with one signing key (more may be added: ``rotate``) and its HTTP server."""

    def __init__(self, issuer: str | None = None, alg: str = "RS256") -> None:
        self.keys = [SigningKey(alg)]
        self.patients: dict[str, dict] = {}
        self.delay = 0.0
        self.failing = False
        self.seen: list[dict] = []
        self.jwks_fetches = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.issuer = issuer or f"{self.base}/ehr"
        self.jwks_url = f"{self.base}/jwks.json"
        self.fhir_server = f"{self.base}/fhir"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def rotate(self, alg: str = "RS256") -> SigningKey:
        self.keys.append(SigningKey(alg))
        return self.keys[-1]

    def token(self, audience: str, *, key: SigningKey | None = None, now: float | None = None, **claims) -> str:
        """A JWT as the EHR signs it for a call of ``audience``; ``claims`` override or (as None) drop."""
        key = key or self.keys[-1]
        moment = time.time() if now is None else now
        body = {"iss": self.issuer, "sub": "myocit-client", "aud": audience, "exp": int(moment) + 300,
                "iat": int(moment), "jti": uuid.uuid4().hex} | claims
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key.private, algorithm=key.alg, headers={"kid": key.kid})

    def _handler(self):
        ehr = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                ehr.seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
                if self.path == "/jwks.json":
                    ehr.jwks_fetches += 1
                    return self._answer(200, {"keys": [k.public_jwk() for k in ehr.keys]})
                if ehr.delay:
                    time.sleep(ehr.delay)
                found = ehr.patients.get(self.path.removeprefix("/fhir/Patient/"))
                if ehr.failing or not self.path.startswith("/fhir/Patient/"):
                    return self._answer(500, {"resourceType": "OperationOutcome"})
                return self._answer(200, found) if found else self._answer(404, {"resourceType": "OperationOutcome"})

            def _answer(self, status: int, document: dict) -> None:
                encoded = json.dumps(document).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(encoded)))
                    self.end_headers()
                    self.wfile.write(encoded)
                except OSError:
                    pass  # the service gave up waiting

            def log_message(self, *args):
                pass

        return Handler


def patient_view(patient_id: str, patient: dict | None = None, **more) -> dict:
    """A CDS Hooks 2.0 patient-view request body."""
    request = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
               "context": {"userId": "Practitioner/example", "patientId": patient_id}} | more
    if patient is not None:
        request["prefetch"] = {"patient": patient}
    return request
