"""The embedded default drains a backlog: the first evaluation task screens every child still
pending, whatever tasks the broker holds for them; those tasks then find nothing left to do. A child
whose screening fails is handed on to the task that retries it alone, once, not taken again."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from service import evaluation
from store.models import ScreeningRow
from tests.fhir_samples import eligible_record
from tests.inprocess import make_runtime, post_record
from workers import tasks

DAY = date(2026, 12, 1)
CHILDREN = 12


@pytest.fixture()
def rt(tmp_path):
    runtime = make_runtime(tmp_path, drain_backlog=True)
    yield runtime
    runtime.dispose()


def _screenings(rt) -> int:
    with rt.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(ScreeningRow))


def _posted(client, tokens, rt) -> list:
    for n in range(CHILDREN):
        assert post_record(client, tokens, eligible_record(f"d-{n}", DAY)).status_code == 202
    sent = [s for s in rt.celery.sent if s[0] == "myocit.evaluate_patients"]
    rt.celery.sent.clear()
    assert len(sent) >= CHILDREN  # one task a message at least: the broker's pace
    return sent


def test_the_first_task_screens_the_whole_backlog_and_the_rest_find_it_done(client, tokens, rt):
    sent = _posted(client, tokens, rt)
    first = sent[0]
    done = tasks.evaluate_patients.run(*first[1], **first[2])
    assert done["evaluated"] == CHILDREN and _screenings(rt) == CHILDREN
    for _, args, kwargs in sent[1:]:
        tasks.evaluate_patients.run(*args, **kwargs)
    assert _screenings(rt) == CHILDREN  # nothing screened twice
    assert [s for s in rt.celery.sent if s[0] != "myocit.deliver_alert"] == []


def test_a_child_that_fails_is_handed_on_once_and_the_drain_goes_on(client, tokens, rt, monkeypatch):
    sent = _posted(client, tokens, rt)
    screen = evaluation.evaluate_patient
    failing = {"pk": sent[-1][1][0][0]}  # the last child posted: reached by the drain alone
    assert failing["pk"] not in sent[0][1][0]

    def failing_for_one(cmd, *args, **kwargs):
        if cmd.patient_pk == failing["pk"]:
            raise ZeroDivisionError
        return screen(cmd, *args, **kwargs)

    monkeypatch.setattr(evaluation, "evaluate_patient", failing_for_one)
    done = tasks.evaluate_patients.run(*sent[0][1], **sent[0][2])
    assert done == {"evaluated": CHILDREN - 1, "handed_on": 1}
    assert [s for s in rt.celery.sent if s[0] == "myocit.evaluate_patient"] == [
        ("myocit.evaluate_patient", [failing["pk"]], {})]
