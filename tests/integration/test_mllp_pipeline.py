"""Contract §6 end to end against the real PostgreSQL and Redis, with real API, worker and
``myocit mllp`` processes: an ORU over MLLP from a registered sender makes a child ineligible and
raises exactly one alert."""

from __future__ import annotations

import socket
from datetime import date

import httpx
from sqlalchemy import func, select, text

from service.commands import RegisterSender
from service.senders import register_sender
from store.models import Message
from store.tokens import create_token
from tests.fhir_samples import eligible_record, post_parts
from tests.integration.conftest import wait_until
from tests.mllp_client import listening, msa, read_acks
from tests.processes import free_port

DAY = date(2026, 12, 1)


def _oru(pid3: str, control: str, *, application: str = "LIS") -> bytes:
    lines = [f"MSH|^~\\&|{application}|LAB|MYOCIT|HOSP|20261201083000||ORU^R01|{control}|P|2.5.1||||||8859/1",
             f"PID|||{pid3}", "OBR|1||ORD-9|||20261201070000",
             "OBX|1|NM|26499-4^Neutrophils^LN||0.3|10*9/L|||||F|||20261201070000",
             "NTE|1||prélèvement"]
    return b"\x0b" + ("\r".join(lines) + "\r").encode("latin-1") + b"\x1c\x0d"


def test_an_oru_over_mllp_makes_a_child_ineligible_and_raises_one_alert(rt, api, processes, tmp_path):
    with rt.engine.begin() as conn:
        conn.execute(text("TRUNCATE hl7_senders RESTART IDENTITY"))
    with rt.uow() as uow:
        lab, coordinator, investigator = ({"Authorization": f"Bearer {create_token(uow.session, role, ['site-a'], role, rt.clock.now())}"}
                                          for role in ("lab", "coordinator", "investigator"))
        uow.commit()
    register_sender(RegisterSender("LIS", "LAB", ("site-a",), "test"), rt.uow(), clock=rt.clock)
    processes.start("worker", "--concurrency=1", log=tmp_path / "worker.log")
    port = free_port()
    processes.start("mllp", f"--port={port}", log=tmp_path / "mllp.log")
    wait_until(lambda: listening(port), what="the MLLP listener")

    with httpx.Client(timeout=30) as client:
        def status():
            response = client.get(f"{api}/patients/p-mllp/eligibility", headers=coordinator)
            return response.json().get("status") if response.status_code == 200 else None

        assert post_parts(client, lab, investigator, eligible_record("p-mllp", DAY), url=f"{api}/fhir").status_code == 202
        wait_until(lambda: status() == "eligible", what="the first stored screening")
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(_oru("p-mllp", "E2E-1") + _oru("p-mllp", "E2E-2", application="STRANGER")
                         + _oru("p-mllp", "E2E-1"))
            acks = read_acks(sock, 3)
        assert [msa(a, "latin-1") for a in acks] == [("AA", "E2E-1"), ("AR", "E2E-2"), ("AA", "E2E-1")]
        wait_until(lambda: status() == "ineligible", what="ineligible")
        alerts = client.get(f"{api}/alerts", headers=coordinator).json()
    # The new candidate (§5), then the one change the ORU made.
    assert [(a["from_status"], a["to_status"]) for a in alerts] == [
        (None, "eligible"), ("eligible", "ineligible")]
    assert "EXC-ANC" in alerts[1]["changed"]
    with rt.uow() as uow:
        stored = list(uow.session.scalars(select(Message.body).where(Message.channel == "mllp")))
        assert uow.session.scalar(select(func.count()).select_from(Message).where(Message.control_id == "E2E-2")) == 0
    assert len(stored) == 1 and "prélèvement" in stored[0]
    log = (tmp_path / "mllp.log").read_text()
    assert "answered AA" in log and "p-mllp" not in log
