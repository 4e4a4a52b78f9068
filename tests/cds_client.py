"""A real CDS Hooks client for the §15 tests: healthchain's sandbox client, which lives in a virtual
environment of its own (tests/cds/.venv, made by tests/cds/make_venv.sh) and is driven here as a
subprocess. Importable helpers; no tests here.

When the venv cannot be made or the client cannot run, the tests that use it skip on a developer
machine and fail in CI (``MYOCIT_REQUIRE_SERVICES=1``)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import services

PART = "the healthchain CDS Hooks client"
"""What a skip or failure names when it cannot run (``services.cannot_run``)."""

CDS_DIR = Path(__file__).resolve().parent / "cds"
MAKE_VENV = CDS_DIR / "make_venv.sh"
DRIVER = CDS_DIR / "send_patient_view.py"
VENV_PYTHON = CDS_DIR / ".venv" / "bin" / "python"
MAKE_VENV_SECONDS = 600
SEND_SECONDS = 120


def ensure_venv() -> Path:
    """tests/cds/.venv's python, made (or remade for a changed requirements.txt) when needed."""
    try:
        subprocess.run(
            ["bash", str(MAKE_VENV)], check=True, capture_output=True, text=True, timeout=MAKE_VENV_SECONDS
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        services.cannot_run(PART, f"tests/cds/make_venv.sh failed ({exc}): {getattr(exc, 'stderr', '')}")
    return VENV_PYTHON


@dataclass(frozen=True)
class CdsAnswer:
    """What the service answered healthchain's request, and the request as it was sent."""

    status: int
    body: object
    request: dict
    cds_response_errors: list | None


def send_patient_view(
    url: str,
    patient_id: str,
    patient: dict | None = None,
    authorization: str | None = None,
    fhir_server: str | None = None,
) -> CdsAnswer:
    """Post one CDS Hooks ``patient-view`` request to ``url`` with healthchain's client: context
    ``patientId``, the ``patient`` resource as prefetch when given, ``authorization`` as the
    Authorization header's whole value (``"Bearer <JWT>"``)."""
    python = ensure_venv()
    command = [str(python), str(DRIVER), "--url", url, "--patient-id", patient_id]
    if fhir_server:
        command += ["--fhir-server", fhir_server]
    environment = {k: v for k, v in os.environ.items() if k != "CDS_AUTHORIZATION"}
    if authorization is not None:
        environment["CDS_AUTHORIZATION"] = authorization
    with tempfile.TemporaryDirectory() as directory:
        if patient is not None:
            patient_file = Path(directory) / "patient.json"
            patient_file.write_text(json.dumps(patient), encoding="utf-8")
            command += ["--patient-file", str(patient_file)]
        try:
            done = subprocess.run(
                command, env=environment, capture_output=True, text=True, timeout=SEND_SECONDS, check=True
            )
        # The client is there by now: a failure to send is the test's failure, never a skip.
        except subprocess.CalledProcessError as exc:
            pytest.fail(f"send_patient_view.py exited {exc.returncode}: {exc.stderr}", pytrace=False)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(
                f"send_patient_view.py did not finish within {SEND_SECONDS} s: {exc.stderr}", pytrace=False
            )
    answer = json.loads(done.stdout)
    return CdsAnswer(answer["status"], answer["body"], answer["request"], answer["cds_response_errors"])
