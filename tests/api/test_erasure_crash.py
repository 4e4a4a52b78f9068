"""An erasure runs in one transaction (contract §17): a process killed (SIGKILL) in the middle of
erasing a child, after every row of the child was deleted but before the commit, leaves the child
whole; the objection recorded again then erases it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select

from store.models import ErasedChild, Fact, Message, Patient, PatientIdentifier, ScreeningRow
from tests.api.test_data_protection import CHILD, objected, world  # noqa: F401 - the fixture
from testkit.dbsearch import occurrences

ROOT = Path(__file__).resolve().parents[2]

KILLED_MID_ERASURE = textwrap.dedent("""
    import os, signal
    from bootstrap import Runtime, install
    from config.settings import Settings
    from domain.identity import Caller
    from service.commands import RecordObjection
    from service.data_protection import record_objection
    from store import erasure

    def killed(session, patient_id):
        session.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    erasure.SCRUBBED_PER_CHILD = (killed,)
    rt = Runtime(Settings())
    install(rt)
    record_objection(RecordObjection({child!r}, None, Caller("coordinator", "coordinator", frozenset({{"site-a"}}))),
                     rt.uow(), clock=rt.clock)
    raise SystemExit("the erasure was not interrupted")
""")


def _state(rt) -> tuple:
    with rt.uow() as uow:
        s = uow.session
        pk = s.scalar(select(Patient.pk).where(Patient.id == CHILD))
        return (pk, s.scalar(select(func.count()).select_from(Fact).where(Fact.patient_pk == pk)),
                s.scalar(select(func.count()).select_from(ScreeningRow).where(ScreeningRow.patient_pk == pk)),
                s.scalar(select(func.count()).select_from(PatientIdentifier).where(PatientIdentifier.patient_pk == pk)),
                s.scalar(select(func.count()).select_from(Message)),
                s.scalar(select(func.count()).select_from(ErasedChild)))


def test_a_process_killed_during_an_erasure_leaves_the_child_whole(client, world, rt):
    before = _state(rt)
    assert before[0] is not None and before[1] > 0 and before[2] > 0
    rt.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOCIT_")}
    env |= {"MYOCIT_HOME": str(rt.settings.home), "MYOCIT_TODAY": "2026-12-01"}
    if not rt.settings.embedded:
        env |= {"MYOCIT_DATABASE_URL": rt.settings.database_url,
                "MYOCIT_PSEUDONYM_KEY": rt.settings.pseudonym_key.get_secret_value()}
    done = subprocess.run([sys.executable, "-c", KILLED_MID_ERASURE.format(child=CHILD)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    assert _state(rt) == before
    objected(client, world)
    assert occurrences(rt.engine, [CHILD]) == []
