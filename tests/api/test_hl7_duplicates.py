"""Contract §6 on POST /hl7v2 too: a repeated MSH-10 from the same sender stores nothing new and gets
the original acknowledgement again; MSH-18 is honoured, UTF-8 then Latin-1 without it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.commands import RegisterSender, RevokeSender
from service.errors import Conflict, Invalid, NotFound
from service.senders import list_senders, register_sender, registered_sender, revoke_sender
from store.models import AuditEntry, Fact, Message
from tests.fhir_samples import patient
from tests.inprocess import run_pending
from tests.mllp_client import oru

HL7 = {"Content-Type": "x-application/hl7-v2+er7"}
MRN_A = "urn:oid:1.2.250.1.71.4.2.7"


@pytest.fixture()
def rt(tmp_path):
    from tests.inprocess import make_runtime

    runtime = make_runtime(tmp_path, hl7_authorities=f"NECKER={MRN_A}")
    yield runtime
    runtime.dispose()


@pytest.fixture()
def kid(client, tokens, rt):
    resource = patient("kid-a")
    resource["identifier"] = [{"system": MRN_A, "value": "A-222"}]
    assert client.post("/fhir/Patient", json=resource, headers=tokens["lab"]).status_code == 202
    run_pending(rt)


def post(client, headers, body: str | bytes):
    response = client.post("/hl7v2", content=body, headers={**headers, **HL7})
    line = next(line for line in response.content.decode("latin-1").split("\r") if line.startswith("MSA"))
    return tuple(line.split("|")[1:3]), response


def counts(rt) -> tuple[int, int]:
    with rt.uow() as uow:
        return (uow.session.scalar(select(func.count()).select_from(Message)),
                uow.session.scalar(select(func.count()).select_from(Fact)))


def test_a_repeated_msh10_is_stored_once_and_answered_the_same(client, tokens, rt, kid):
    before = counts(rt)
    first, response = post(client, tokens["lab"], oru("kid-a", 0.3, "R-1"))
    again, repeat = post(client, tokens["lab"], oru("kid-a", 0.5, "R-1"))
    assert first == again == ("AA", "R-1") and repeat.status_code == 202
    assert counts(rt) == (before[0] + 1, before[1] + 1)
    assert not rt.celery.sent[1:]  # the repeat sends no evaluation


def test_the_same_msh10_from_another_sending_system_is_another_message(client, tokens, rt, kid):
    before = counts(rt)
    post(client, tokens["lab"], oru("kid-a", 0.3, "R-2"))
    other, _ = post(client, tokens["lab"], oru("kid-a", 0.4, "R-2", facility="LAB2"))
    assert other == ("AA", "R-2")
    assert counts(rt)[0] == before[0] + 2


def test_another_token_cannot_make_a_message_look_like_a_repeat(client, tokens, rt, kid):
    post(client, tokens["lab"], oru("kid-a", 0.3, "R-3"))
    before = counts(rt)
    post(client, tokens["admin"], oru("kid-a", 0.4, "R-3"))
    assert counts(rt)[0] == before[0] + 1


def test_a_refused_message_stores_nothing_so_its_resend_is_judged_again(client, tokens, rt, kid):
    before = counts(rt)
    refused, response = post(client, tokens["lab-site-b"], oru("A-222^^^NECKER^MR", 0.3, "R-4"))
    assert refused == ("AE", "R-4") and response.status_code == 403
    assert post(client, tokens["lab-site-b"], oru("A-222^^^NECKER^MR", 0.3, "R-4"))[0] == ("AE", "R-4")
    assert counts(rt) == before


@pytest.mark.parametrize("charset,encoding", [("8859/1", "latin-1"), ("", "latin-1"), ("UNICODE UTF-8", "utf-8"),
                                              ("", "utf-8"), ("ASCII", "ascii")])
def test_msh18_is_honoured_then_utf8_then_latin1(client, tokens, rt, kid, charset, encoding):
    text = "prelevement" if encoding == "ascii" else "prélèvement hémolysé"
    body = oru("kid-a", 0.3, "C-1", charset=charset, comment=text).encode(encoding)
    assert post(client, tokens["lab"], body)[0] == ("AA", "C-1")
    with rt.uow() as uow:
        stored = uow.session.scalar(select(Message.body).where(Message.control_id == "C-1"))
    assert text in stored


@pytest.mark.parametrize("charset,body", [("ASCII", "hémolysé".encode("latin-1")),
                                          ("UNICODE UTF-8", "hémolysé".encode("latin-1")),
                                          ("UNICODE UTF-16", b"x")])
def test_a_character_set_not_read_or_not_fitting_gets_ar(client, tokens, rt, kid, charset, body):
    before = counts(rt)
    message = oru("kid-a", 0.3, "C-2", charset=charset).encode("ascii") + b"NTE|1||" + body + b"\r"
    code, response = post(client, tokens["lab"], message)
    assert code == ("AR", "C-2") and response.status_code == 400 and "MSH^1^18" in response.text
    assert counts(rt) == before


# --- registered senders ----------------------------------------------------------------------------


def test_senders_are_registered_listed_revoked_and_audited(rt):
    made = register_sender(RegisterSender(" LIS ", "LAB", ("site-a", "site-b"), "ops"), rt.uow(), clock=rt.clock)
    assert (made.application, made.facility, made.sites) == ("LIS", "LAB", ["site-a", "site-b"])
    with pytest.raises(Conflict):
        register_sender(RegisterSender("LIS", "LAB", ("site-c",), "ops"), rt.uow(), clock=rt.clock)
    for bad in (RegisterSender("LIS2", "LAB", (), "ops"), RegisterSender("L^IS", "LAB", ("a",), "ops"),
                RegisterSender("x" * 61, "LAB", ("a",), "ops")):
        with pytest.raises(Invalid):
            register_sender(bad, rt.uow(), clock=rt.clock)
    with rt.uow() as uow:
        caller = registered_sender(uow, "LIS", "LAB")
    assert (caller.role, caller.sites, caller.name) == ("lab", frozenset({"site-a", "site-b"}), "LIS@LAB")
    revoke_sender(RevokeSender(made.pk, "ops"), rt.uow(), clock=rt.clock)
    revoke_sender(RevokeSender(made.pk, "ops"), rt.uow(), clock=rt.clock)
    with pytest.raises(NotFound):
        revoke_sender(RevokeSender(999, "ops"), rt.uow(), clock=rt.clock)
    with rt.uow() as uow:
        assert registered_sender(uow, "LIS", "LAB") is None
        actions = list(uow.session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "ops")))
    assert actions == ["sender-create", "sender-revoke", "sender-revoke"]
    again = register_sender(RegisterSender("LIS", "LAB", ("site-c",), "ops"), rt.uow(), clock=rt.clock)
    assert [s.pk for s in list_senders(rt.uow()) if s.revoked_at is None] == [again.pk]
