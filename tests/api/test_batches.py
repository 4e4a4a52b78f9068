"""Evaluations travel in batches: one task for many patients, each patient still in its own unit of
work, one patient's failure isolated, each patient's request id kept (contract §12)."""

from __future__ import annotations

import logging
import threading
from datetime import date

from sqlalchemy import func, select

from bootstrap.dispatch import CeleryDispatcher
from config.logs import request_id
from service import evaluation
from store.models import Patient, ScreeningRow
from tests.fhir_samples import bundle, eligible_record
from tests.inprocess import Calls, evaluations_sent, post_record, run_pending
from workers import tasks

DAY = date(2026, 12, 1)
BATCH = "myocit.evaluate_patients"


def dispatcher(window: float = 0.0, batch: int = 32) -> tuple[CeleryDispatcher, Calls]:
    calls = Calls()
    return CeleryDispatcher(lambda: calls, batch=batch, window_seconds=window), calls


def test_a_long_list_of_patients_goes_in_batches_of_the_configured_size():
    send, calls = dispatcher(batch=32)
    token = request_id.set("sweep-1")
    try:
        send.evaluate(list(range(1, 71)), "2026-12-18")
    finally:
        request_id.reset(token)
    assert [(name, len(args[0]), kwargs) for name, args, kwargs in calls.sent] == \
        [(BATCH, 32, {"as_of": "2026-12-18"}), (BATCH, 32, {"as_of": "2026-12-18"}), (BATCH, 6, {"as_of": "2026-12-18"})]
    assert [pk for _, args, _ in calls.sent for pk in args[0]] == list(range(1, 71))
    assert calls.headers == [{"request_id": "sweep-1"}] * 3


def test_concurrent_messages_are_gathered_into_one_task_naming_each_patients_request():
    send, calls = dispatcher(window=0.2)
    sent = []

    def message(pk: int, rid: str) -> None:
        request_id.set(rid)
        send.evaluate([pk])
        sent.append(pk)

    threads = [threading.Thread(target=message, args=(pk, f"req-{pk}")) for pk in (7, 8, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sent) == [7, 8, 9]
    send.flush()
    assert [(name, sorted(args[0])) for name, args, _ in calls.sent] == [(BATCH, [7, 8, 9])]
    assert calls.headers == [{"request_ids": {"7": "req-7", "8": "req-8", "9": "req-9"}}]


def test_a_gathered_batch_goes_when_the_window_ends_or_when_it_is_full():
    send, calls = dispatcher(window=0.05, batch=3)
    send.evaluate([1])
    send.evaluate([2])
    send.evaluate([3])  # full: sent at once, by the caller's thread
    assert [args[0] for _, args, _ in calls.sent] == [[1, 2, 3]]
    send.evaluate([4])
    for _ in range(200):
        if len(calls.sent) == 2:
            break
        threading.Event().wait(0.01)
    assert [args[0] for _, args, _ in calls.sent] == [[1, 2, 3], [4]]


def test_a_patient_sent_twice_in_one_window_is_evaluated_once():
    send, calls = dispatcher(window=10)
    send.evaluate([5])
    send.evaluate([5, 6])
    send.flush()
    assert [args[0] for _, args, _ in calls.sent] == [[5, 6]]


def test_one_patients_failure_leaves_the_rest_of_the_batch_evaluated(client, tokens, rt, monkeypatch, caplog):
    for pid in ("bt-1", "bt-2", "bt-3"):
        assert post_record(client, tokens, eligible_record(pid, DAY)).status_code == 202
    pks = evaluations_sent(rt)
    rt.celery.sent.clear()
    with rt.uow() as uow:
        broken = uow.session.scalar(select(Patient.pk).where(Patient.id == "bt-2"))
    real = evaluation.evaluate_patient

    def flaky(cmd, *args, **kwargs):
        if cmd.patient_pk == broken:
            raise RuntimeError("a bug met by one child only")
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(evaluation, "evaluate_patient", flaky)
    caplog.set_level(logging.INFO)
    assert tasks.evaluate_patients.run(pks) == {"evaluated": 2, "handed_on": 1}
    # The two evaluated are new candidates, whose alerts go out (§5); the broken one is handed on.
    assert [(name, args) for name, args, _ in rt.celery.sent if name != "myocit.deliver_alert"] == [
        ("myocit.evaluate_patient", [broken])]
    assert len([name for name, _, _ in rt.celery.sent if name == "myocit.deliver_alert"]) == 2
    with rt.uow() as uow:
        statuses = dict(uow.session.execute(select(Patient.id, Patient.status)).all())
    assert statuses["bt-1"] is not None and statuses["bt-1"] == statuses["bt-3"]
    assert statuses["bt-2"] is None
    monkeypatch.setattr(evaluation, "evaluate_patient", real)
    run_pending(rt)  # the patient retried alone is evaluated once its bug is gone
    with rt.uow() as uow:
        assert uow.session.scalar(select(Patient.status).where(Patient.id == "bt-2")) == statuses["bt-1"]


def test_a_batch_delivered_twice_evaluates_nobody_twice(client, tokens, rt):
    for pid in ("bt-4", "bt-5"):
        assert post_record(client, tokens, eligible_record(pid, DAY)).status_code == 202
    pks = evaluations_sent(rt)
    rt.celery.sent.clear()
    assert tasks.evaluate_patients.run(pks) == {"evaluated": 2, "handed_on": 0}
    with rt.uow() as uow:
        seqs = uow.session.execute(select(Patient.evaluated_seq).where(Patient.pk.in_(pks))).scalars().all()
        stored = uow.session.scalar(select(func.count()).select_from(ScreeningRow))
    assert stored == 2
    assert tasks.evaluate_patients.run(pks) == {"evaluated": 2, "handed_on": 0}
    with rt.uow() as uow:
        again = uow.session.execute(select(Patient.evaluated_seq).where(Patient.pk.in_(pks))).scalars().all()
        assert uow.session.scalar(select(func.count()).select_from(ScreeningRow)) == stored
    assert again == seqs


def test_each_patient_of_a_gathered_batch_logs_under_its_own_request_id(client, tokens, rt, caplog):
    assert post_record(client, tokens, eligible_record("bt-6", DAY)).status_code == 202
    assert post_record(client, tokens, eligible_record("bt-7", DAY)).status_code == 202
    pks = evaluations_sent(rt)
    rt.celery.sent.clear()
    caplog.set_level(logging.INFO, logger="myocit.evaluation")
    seen = []

    class Seen(logging.Handler):
        def emit(self, record):
            if record.name == "myocit.evaluation":
                seen.append(request_id.get())

    handler = Seen()
    logging.getLogger("myocit.evaluation").addHandler(handler)
    try:
        task = tasks.evaluate_patients
        task.push_request(request_ids={str(pks[0]): "req-a", str(pks[1]): "req-b"})
        try:
            task.run(pks)
        finally:
            task.pop_request()
    finally:
        logging.getLogger("myocit.evaluation").removeHandler(handler)
    assert seen == ["req-a", "req-b"]


def test_the_results_of_one_bundle_for_two_children_go_in_one_task(client, tokens, rt):
    for pid in ("bt-8", "bt-9"):
        assert post_record(client, tokens, eligible_record(pid, DAY)).status_code == 202
    run_pending(rt)
    from tests.fhir_samples import quantity

    both = [quantity(pid, "718-7", 12, "g/dL", "2026-11-29", oid=f"hb-{pid}") for pid in ("bt-8", "bt-9")]
    assert client.post("/fhir", json=bundle(both, "batch"), headers=tokens["lab"]).status_code == 202
    assert [(name, len(args[0])) for name, args, _ in rt.celery.sent] == [(BATCH, 2)]
