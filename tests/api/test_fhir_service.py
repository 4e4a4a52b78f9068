"""The FHIR intake as a service (``service.fhir``): it parses, records and builds the answer the routes write
out as they get it; an HL7 v2 message is parsed once on its way through ``service.hl7``; handlers hand back
small summaries, not the store's rows."""

from __future__ import annotations

import json

import hl7
from sqlalchemy import func, select

from domain.identity import Caller
from service import administration, fhir, senders
from service.commands import (BindTokenSites, CreateSubscription, DeactivateSubscription, ReceiveFhirBundle,
                              ReceiveFhirResource, ReceiveHl7, RegisterSender, RevokeSender, RevokeToken)
from service.hl7 import receive_hl7
from store.models import Base, Message
from store.tokens import create_token
from tests.fhir_samples import bundle, patient
from tests.inprocess import bearer
from tests.mllp_client import oru

LAB_A = Caller("lab-a", "lab", frozenset({"site-a"}))
FHIR_JSON = "application/fhir+json"


def _messages(rt) -> int:
    with rt.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Message))


def _bundle(rt, body: dict) -> fhir.FhirAnswer:
    return fhir.receive_bundle(ReceiveFhirBundle(json.dumps(body).encode(), FHIR_JSON, LAB_A), rt.uow(),
                               clock=rt.clock, dispatch=rt.dispatch, protocol=rt.protocol)


def _resource(rt, resource: dict) -> fhir.FhirAnswer:
    return fhir.receive_resource(
        ReceiveFhirResource(json.dumps(resource).encode(), resource["resourceType"], FHIR_JSON, LAB_A), rt.uow(),
        clock=rt.clock, dispatch=rt.dispatch, protocol=rt.protocol)


def test_a_batch_is_answered_entry_by_entry_and_tagged_with_its_message(rt):
    answer = _bundle(rt, bundle([patient("p-1"), patient("p-2", site="site-b")], kind="batch"))
    assert answer.status == 202 and answer.location is None
    statuses = [entry["response"]["status"] for entry in answer.body["entry"]]
    assert (answer.body["type"], statuses) == ("batch-response", ["202 Accepted", "403 Forbidden"])
    assert answer.body["entry"][0]["response"]["location"] == "Patient/p-1"
    assert answer.body["meta"]["tag"][0]["display"] == "stored" and _messages(rt) == 1
    again = _bundle(rt, bundle([patient("p-1"), patient("p-2", site="site-b")], kind="batch"))
    assert again.body["meta"]["tag"][0]["display"] == "duplicate" and _messages(rt) == 1


def test_an_unreadable_or_refused_body_is_an_operation_outcome_and_nothing_is_stored(rt):
    unreadable = _bundle(rt, {"resourceType": "Bundle", "type": "history"})
    assert (unreadable.status, unreadable.body["issue"][0]["code"]) == (400, "not-supported")
    assert unreadable.body["issue"][0]["expression"] == ["Bundle.type"]
    refused = _bundle(rt, bundle([patient("p-2", site="site-b")]))
    assert (refused.status, refused.body["resourceType"], refused.body["issue"][0]["code"]) == \
        (403, "OperationOutcome", "forbidden")
    assert _messages(rt) == 0


def test_one_resource_is_answered_with_where_it_is(rt):
    answer = _resource(rt, patient("p-1"))
    assert (answer.status, answer.location) == (202, "Patient/p-1")
    issue = answer.body["issue"][0]
    assert (issue["severity"], issue["code"]) == ("information", "informational")
    assert issue["diagnostics"].startswith("Patient/p-1 stored as message ")


def test_the_routes_write_the_services_answer_byte_for_byte(rt, client):
    with rt.uow() as uow:
        token = create_token(uow.session, "lab", ["site-a"], "lab-a", rt.clock.now())
        uow.commit()
    refused = patient("p-2", site="site-b")
    answer = _resource(rt, refused)
    response = client.post("/fhir/Patient", content=json.dumps(refused),
                           headers={**bearer(token), "Content-Type": FHIR_JSON})
    assert response.status_code == answer.status == 403
    assert response.headers["content-type"] == FHIR_JSON
    assert response.content == json.dumps(answer.body, ensure_ascii=False, separators=(",", ":")).encode()


def test_an_hl7_message_is_parsed_once_from_its_text_to_its_ack(rt, monkeypatch):
    parsed = []
    parse = hl7.parse
    monkeypatch.setattr(hl7, "parse", lambda *args, **kwargs: parsed.append(1) or parse(*args, **kwargs))
    answer = receive_hl7(ReceiveHl7(oru("p-1^^^NECKER^MR").encode(), "hl7v2", LAB_A), rt.uow(),
                         clock=rt.clock, dispatch=rt.dispatch, authorities={}, max_results=1000)
    assert (answer.code, answer.status, len(parsed)) == ("AA", 202, 1)


def test_the_administrators_handlers_return_summaries_not_rows(rt):
    def no_row(value):
        assert not isinstance(value, Base)
        return value

    sender = no_row(senders.register_sender(RegisterSender("LIS", "LAB", ("site-a",), "ops", ("10.0.0.0/8",)),
                                            rt.uow(), clock=rt.clock))
    assert (sender.application, sender.sites, sender.addresses, sender.certificates) == \
        ("LIS", ["site-a"], ["10.0.0.0/8"], [])
    listed = [no_row(row) for row in senders.list_senders(rt.uow())]
    assert [row.pk for row in listed] == [sender.pk]
    revoked = no_row(senders.revoke_sender(RevokeSender(sender.pk, "ops"), rt.uow(), clock=rt.clock))
    assert revoked.revoked_at is not None

    with rt.uow() as uow:
        create_token(uow.session, "lab", ["site-a"], "lab-a", rt.clock.now())
        uow.commit()
    bound = no_row(administration.bind_token_sites(BindTokenSites(1, ("site-b", "site-a"), "ops"), rt.uow(),
                                                   clock=rt.clock))
    assert (bound.pk, bound.name, bound.sites) == (1, "lab-a", ["site-a", "site-b"])
    assert no_row(administration.revoke_token(RevokeToken(1, "ops"), rt.uow(), clock=rt.clock)).name == "lab-a"

    made = administration.create_subscription(CreateSubscription("site-a", "webhook", "https://x.example/h", "ops"),
                                              rt.uow(), clock=rt.clock)
    no_row(made.subscription)
    assert made.secret and (made.subscription.site, made.subscription.active) == ("site-a", True)
    gone = no_row(administration.deactivate_subscription(DeactivateSubscription(made.subscription.pk, "ops"),
                                                         rt.uow(), clock=rt.clock))
    assert (gone.pk, gone.active) == (made.subscription.pk, False)
