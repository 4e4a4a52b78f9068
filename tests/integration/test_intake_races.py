"""Intakes racing on PostgreSQL (contract §6, §13): what one request at a time cannot show. Each round
starts two intakes at the same instant (a barrier) and checks that the database kept one of them.

- Two sites' labs registering the same new Patient id: one is stored, the other refused; the child
  keeps the winner's site, birth date, sex and identifiers.
- Two new Patients of one site carrying the same new identifier: one holds it, the other is refused
  (409) and nothing of it is stored.
- The same MSH-10 from one sender on two connections, with different bodies: stored once, one AA, and
  the other answered as a repeat with the same code.
- Identical FHIR bundles posted together: stored once.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import func, select

from domain.facts import Code, LabResult, PatientProfile, Quantity, Sex
from domain.identity import Refusal, Refused
from ingest.items import Item, Registration, Subject
from service.commands import ReceiveHl7, RecordMessage
from service.hl7 import receive_hl7
from service.intake import record_message
from store.models import Fact, Message, Patient, PatientIdentifier
from store.senders import create_sender
from domain.identity import Caller
from tests.api.test_identity import MRN_A, MRN_B, oru
from tests.inprocess import make_runtime

pytestmark = pytest.mark.services
ROUNDS = 200
DAY = date(2026, 12, 1)
LAB_A = Caller("lab A", "lab", frozenset({"site-a"}))
LAB_B = Caller("lab B", "lab", frozenset({"site-b"}))


@pytest.fixture()
def rt(clean_db, tmp_path):
    runtime = make_runtime(tmp_path, database_url=clean_db)
    yield runtime
    runtime.dispose()


def together(first, second) -> list:
    """Run both at the same instant; each one's result, or the exception it raised."""
    barrier = threading.Barrier(2)

    def run(action):
        barrier.wait()
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            return exc

    with ThreadPoolExecutor(2) as pool:
        return [future.result() for future in [pool.submit(run, first), pool.submit(run, second)]]


def record(rt, cmd: RecordMessage):
    return lambda: record_message(cmd, rt.uow(), clock=rt.clock, dispatch=rt.dispatch)


def registration(pid: str, site: str, system: str, value: str, born: date, sex: Sex) -> RecordMessage:
    reg = Registration(pid, PatientProfile(born, sex), ((system, value),), site)
    sender = LAB_A if site == "site-a" else LAB_B
    return RecordMessage(channel="fhir", content_type="application/fhir+json", body=f"{pid} by {sender.name}",
                         sender=sender, items=[Item((Subject("id", pid),), [], reg)])


def test_two_sites_registering_one_new_patient_id_never_both_succeed(rt):
    for round_ in range(ROUNDS):
        pid = f"race-{round_}"
        outcomes = together(
            record(rt, registration(pid, "site-a", MRN_A, f"A-{round_}", date(2016, 1, 1), Sex.FEMALE)),
            record(rt, registration(pid, "site-b", MRN_B, f"B-{round_}", date(2018, 6, 6), Sex.MALE)))
        refused = [o for o in outcomes if isinstance(o, Refused)]
        assert len(refused) == 1, (round_, outcomes)
        assert refused[0].refusal in (Refusal.OTHER_SITE, Refusal.SITE_FIXED)
        winner = "site-b" if isinstance(outcomes[0], Refused) else "site-a"
        with rt.uow() as uow:
            child = uow.session.execute(select(Patient.pk, Patient.site, Patient.birth_date, Patient.sex)
                                        .where(Patient.id == pid)).one()
            held = uow.session.execute(select(PatientIdentifier.system, PatientIdentifier.value)
                                       .where(PatientIdentifier.patient_pk == child.pk)).all()
        expected = ((date(2016, 1, 1), "female", [(MRN_A, f"A-{round_}")]) if winner == "site-a"
                    else (date(2018, 6, 6), "male", [(MRN_B, f"B-{round_}")]))
        assert (child.site, child.birth_date, child.sex, [tuple(h) for h in held]) == (winner, *expected)


def test_two_new_patients_taking_one_identifier_never_both_hold_it(rt):
    for round_ in range(ROUNDS):
        pair = f"P-{round_}"
        outcomes = together(
            record(rt, registration(f"left-{round_}", "site-a", MRN_A, pair, date(2016, 1, 1), Sex.FEMALE)),
            record(rt, registration(f"right-{round_}", "site-a", MRN_A, pair, date(2017, 1, 1), Sex.MALE)))
        refused = [o for o in outcomes if isinstance(o, Refused)]
        assert [r.refusal for r in refused] == [Refusal.IDENTIFIER_HELD], (round_, outcomes)
        loser = f"left-{round_}" if isinstance(outcomes[0], Refused) else f"right-{round_}"
        with rt.uow() as uow:
            holders = uow.session.scalars(select(Patient.id).join(PatientIdentifier,
                                                                  PatientIdentifier.patient_pk == Patient.pk)
                                          .where(PatientIdentifier.value == pair)).all()
            half_stored = uow.session.scalar(select(func.count()).select_from(Patient).where(Patient.id == loser))
        assert len(holders) == 1 and half_stored == 0


def test_one_msh10_on_two_connections_is_stored_once_and_answered_as_a_repeat(rt):
    with rt.uow() as uow:
        create_sender(uow.session, "LIS", "LAB", ["site-a"], rt.clock.now())
        uow.commit()

    def receive(message: str):
        return lambda: receive_hl7(ReceiveHl7(message.encode(), "mllp", None), rt.uow(), clock=rt.clock,
                                   dispatch=rt.dispatch, authorities={}, max_results=1000)

    for round_ in range(ROUNDS):
        control = f"MSG-{round_}"
        answers = together(receive(oru(f"V-{round_}", 0.3, control)), receive(oru(f"V-{round_}", 0.9, control)))
        assert [a.code for a in answers] == ["AA", "AA"], answers
        assert sorted(a.duplicate for a in answers) == [False, True]
        assert all(f"MSA|AA|{control}" in a.ack for a in answers)
        with rt.uow() as uow:
            stored = uow.session.scalar(select(func.count()).select_from(Message).where(Message.control_id == control))
        assert stored == 1


def test_identical_bundles_posted_together_are_stored_once(rt):
    for round_ in range(ROUNDS):
        pid = f"twin-{round_}"
        neutrophils = LabResult(f"Observation/n-{round_}", DAY, (Code("http://loinc.org", "26499-4"),),
                                quantity=Quantity(0.3, "10*9/L"))
        reg = Registration(pid, PatientProfile(date(2016, 1, 1), Sex.FEMALE), ((MRN_A, f"T-{round_}"),), "site-a")
        items = [Item((Subject("id", pid),), [], reg), Item((Subject("id", pid),), [neutrophils])]
        cmd = RecordMessage(channel="fhir", content_type="application/fhir+json", body=f"bundle {round_}",
                            sender=LAB_A, items=items, atomic=False)
        outcomes = together(record(rt, cmd), record(rt, cmd))
        assert sorted(o.duplicate_of is not None for o in outcomes) == [False, True], outcomes
        assert outcomes[0].message_pk == outcomes[1].message_pk
        with rt.uow() as uow:
            messages = uow.session.scalar(select(func.count()).select_from(Message)
                                          .where(Message.body == f"bundle {round_}"))
            facts = uow.session.scalar(select(func.count()).select_from(Fact)
                                       .where(Fact.source == f"Observation/n-{round_}"))
        assert (messages, facts) == (1, 1)


def test_identical_results_by_id_posted_together_are_stored_once(rt):
    """Results naming their children by id only: the claim, the lookup and the tombstones' check go to
    PostgreSQL together (store/intake.py::_claim_pipelined); a copy still finds the original's claim."""
    record(rt, registration("twin-known", "site-a", MRN_A, "TK-1", date(2016, 1, 1), Sex.FEMALE))()
    for round_ in range(ROUNDS):
        results = [LabResult(f"Observation/r-{round_}-{pid}", DAY, (Code("http://loinc.org", "26499-4"),),
                             quantity=Quantity(0.3, "10*9/L")) for pid in ("twin-known", f"twin-new-{round_}")]
        items = [Item((Subject("id", "twin-known"),), [results[0]]),
                 Item((Subject("id", f"twin-new-{round_}"),), [results[1]])]
        cmd = RecordMessage(channel="fhir", content_type="application/fhir+json", body=f"results {round_}",
                            sender=LAB_A, items=items, atomic=False)
        outcomes = together(record(rt, cmd), record(rt, cmd))
        assert sorted(o.duplicate_of is not None for o in outcomes) == [False, True], outcomes
        stored = next(o for o in outcomes if o.duplicate_of is None)
        with rt.uow() as uow:
            facts = dict(uow.session.execute(select(Fact.subject_key, Fact.patient_pk)
                                             .where(Fact.message_pk == stored.message_pk)).all())
            known = uow.session.scalar(select(Patient.pk).where(Patient.id == "twin-known"))
        assert facts == {"id:twin-known": known, f"id:twin-new-{round_}": None}
        assert stored.enqueue in ([known], [])
