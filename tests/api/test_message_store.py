"""The message store for operators (issue: `myocit messages list|show|reprocess`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select, update

from service.commands import ReprocessMessages
from service.messages import reprocess
from store.models import Alert, Fact, Message
from testkit import cli
from tests.fhir_samples import bundle, eligible_record, quantity
from tests.inprocess import post_record, run_pending

DAY = date(2026, 12, 1)
ROOT = Path(__file__).resolve().parents[2]


def myocit(rt, *args: str) -> cli.Done:
    return cli.myocit(*args, env={"MYOCIT_HOME": str(rt.settings.home), "MYOCIT_TODAY": "2026-12-01"})


def _reprocess(rt, *pks):
    return reprocess(ReprocessMessages(tuple(pks), "test"), rt.uow(), clock=rt.clock, dispatch=rt.dispatch,
                     protocol=rt.protocol, authorities={}, max_results=1000)


def test_messages_are_listed_and_shown_with_what_they_became(client, tokens, rt):
    kept = quantity("nobody-yet", "26499-4", 2.0, "10*9/L", "2026-11-30")
    assert client.post("/fhir/Observation", json=kept, headers=tokens["lab"]).status_code == 202
    post_record(client, tokens, eligible_record("p-1", DAY))
    listed = myocit(rt, "messages", "list").stdout.splitlines()
    assert len(listed) == 3
    assert listed[-1].split("\t")[7] == "waiting" and listed[0].split("\t")[7] == "filed"
    assert "p-1" in listed[0]
    assert len(myocit(rt, "messages", "list", "--status", "waiting").stdout.splitlines()) == 1
    first = listed[-1].split("\t")[0]
    shown = myocit(rt, "messages", "show", first).stdout
    assert "fhir from lab" in shown and "kept for id:nobody-yet" in shown and '"resourceType":"Observation"' in shown
    assert myocit(rt, "messages", "show", "999999").returncode == 2


def test_reprocessing_after_a_mapping_fix_re_screens_and_alerts_only_on_a_real_change(client, tokens, rt):
    post_record(client, tokens, eligible_record("p-2", DAY))
    run_pending(rt)
    neutrophils = quantity("p-2", "26499-4", 4.0, "10*9/L", "2026-11-30")
    assert client.post("/fhir", json=bundle([neutrophils], "batch"), headers=tokens["lab"]).status_code == 202
    run_pending(rt)
    with rt.uow() as uow:
        message_pk = uow.session.scalar(select(Message.pk).order_by(Message.pk.desc()))
        # What a faulty mapping had made of it: 0.3 instead of 4.0.
        fact = uow.session.scalar(select(Fact).where(Fact.message_pk == message_pk))
        payload = {**fact.payload, "quantity": {**fact.payload["quantity"], "value": 0.3}}
        uow.session.execute(update(Fact).where(Fact.pk == fact.pk).values(payload=payload))
        uow.commit()
    # Reprocessing restores 4.0: the child is re-screened, and its status does not change.
    assert _reprocess(rt, message_pk).changed == [message_pk]
    run_pending(rt)
    with rt.uow() as uow:
        alerts = uow.session.execute(select(Alert.from_status, Alert.to_status)).all()
    # Only the new candidate's first alert (§5): the status after the fix is the one stored before.
    assert [tuple(a) for a in alerts] == [(None, "eligible")]
    again = _reprocess(rt, message_pk)
    assert (again.changed, again.unchanged, again.queued) == ([], [message_pk], 0)
    assert rt.celery.sent == []


def test_reprocessing_every_message_since_a_date_from_the_command_line(client, tokens, rt):
    post_record(client, tokens, eligible_record("p-3", DAY))
    done = myocit(rt, "messages", "reprocess", "--since", "2000-01-01")
    assert done.returncode == 0, done.stderr
    assert "0 re-derived" in done.stdout and "unchanged" in done.stdout
