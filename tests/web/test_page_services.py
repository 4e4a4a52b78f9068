"""The service functions the routes call for what they used to do in their own transactions: signing
in and out, a session's and a bearer token's caller, the audited reads of the pages. Each opens its
unit of work, audits and commits; a route only shapes what it returns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from service import access, pages, sessions
from service.errors import NotFound
from store.models import AuditEntry
from store.tokens import authenticate
from tests.fhir_samples import eligible_record
from tests.inprocess import post_record, run_pending


def _audited(rt) -> list[tuple]:
    with rt.uow() as uow:
        return [tuple(row) for row in uow.session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.target).order_by(AuditEntry.pk))]


def _caller(rt, token: str):
    with rt.uow() as uow:
        return authenticate(uow.session, token)


def test_signing_in_stores_a_session_that_names_its_caller_until_signed_out(rt, tokens):
    signed = sessions.sign_in(tokens["coordinator"], "10.0.0.1", rt.uow(), clock=rt.clock)
    assert signed.refused is None and signed.caller.name == "coordinator"
    assert sessions.session_caller(signed.session_id, rt.uow(), clock=rt.clock) == signed.caller
    sessions.sign_out(signed.session_id, signed.caller, rt.uow(), clock=rt.clock)
    assert sessions.session_caller(signed.session_id, rt.uow(), clock=rt.clock) is None
    assert _audited(rt)[-2:] == [("coordinator", "sign-in", None), ("coordinator", "sign-out", None)]


def test_a_session_ends_with_its_age(rt, tokens):
    signed = sessions.sign_in(tokens["investigator"], "10.0.0.1", rt.uow(), clock=rt.clock)

    class Later:
        def now(self):
            return rt.clock.now() + timedelta(seconds=sessions.SESSION_SECONDS + 1)

    assert sessions.session_caller(signed.session_id, rt.uow(), clock=Later()) is None


@pytest.mark.parametrize(("token", "refused", "audited"), [
    ("myo_not-a-token", "unknown", ("anonymous", "sign-in-failed", "address 10.0.0.9")),
    ("", "unknown", ("anonymous", "sign-in-failed", "address 10.0.0.9")),
    ("lab", "role", ("lab", "sign-in-refused", "role lab")),
])
def test_a_refused_sign_in_is_audited_without_the_pasted_value(rt, tokens, token, refused, audited):
    signed = sessions.sign_in(tokens.get(token, token), "10.0.0.9", rt.uow(), clock=rt.clock)
    assert (signed.session_id, signed.refused) == (None, refused)
    assert _audited(rt)[-1] == audited


def test_an_unknown_bearer_token_is_audited_and_a_known_one_named(rt, tokens):
    assert access.caller_of_token(tokens["lab"], "10.0.0.2", rt.uow(), clock=rt.clock).role == "lab"
    assert access.caller_of_token("myo_guess", "10.0.0.2", rt.uow(), clock=rt.clock) is None
    assert _audited(rt) == [("anonymous", "unknown-token", "address 10.0.0.2")]


def test_each_page_read_is_audited_as_a_view(rt, tokens, client):
    assert post_record(client, tokens, eligible_record("p-read", rt.clock.today())).status_code == 202
    run_pending(rt)
    coordinator, admin = _caller(rt, tokens["coordinator"]), _caller(rt, tokens["admin"])
    assert [row.patient.id for row in pages.worklist(coordinator, rt.uow(), clock=rt.clock)] == ["p-read"]
    found = pages.patient_file("p-read", coordinator, rt.uow(), clock=rt.clock)
    assert found.patient.id == "p-read" and found.stored is not None and found.history
    assert pages.checklist("p-read", coordinator, rt.uow(), clock=rt.clock).stored == found.stored
    assert pages.alert_board(coordinator, rt.uow(), clock=rt.clock).rows is not None
    assert pages.protocol_history(admin, rt.uow(), clock=rt.clock).activations is not None
    entries = pages.audit_trail(admin, rt.uow(), clock=rt.clock)
    assert [action for _, _, action, _ in entries[:5]] == ["view-protocols", "view-alerts", "view-checklist", "view",
                                                           "view-worklist"]
    assert _audited(rt)[-1] == ("admin", "view-audit", None)


def test_a_child_of_another_site_is_not_found_and_its_reading_not_audited(rt, tokens, client):
    assert post_record(client, tokens, eligible_record("p-b", rt.clock.today(), site="site-b"),
                       site="site-b").status_code == 202
    coordinator = _caller(rt, tokens["coordinator"])
    before = _audited(rt)
    with pytest.raises(NotFound, match="no patient p-b for this site"):
        pages.patient_file("p-b", coordinator, rt.uow(), clock=rt.clock)
    with pytest.raises(NotFound):
        pages.checklist("p-b", coordinator, rt.uow(), clock=rt.clock)
    assert _audited(rt) == before
