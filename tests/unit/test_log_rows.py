"""The screening log's maintained rows (``store.log_rows``) after random sequences of screenings,
outcomes and confirmations, written through the store's own writers one transaction each, equal the
rows recomputed from the screenings, outcomes and confirmations themselves; migration 0019's fill
gives the same rows from the same data. On SQLite and on PostgreSQL."""

from __future__ import annotations

import importlib.util
import random
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.orm import sessionmaker

from domain.verdicts import Status
from store import log_rows, screening, screening_log
from store.migrate import upgrade
from store.models import Confirmation, LogRow, Patient, ScreeningRow
from tests import services
from tests.builders import eligible_facts, lab, screen

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
CHILDREN = 4
STEPS = 70


@pytest.fixture(scope="module")
def results():
    """Screenings of every status, their criteria alike within a status but not across."""
    eligible, incomplete = screen(eligible_facts()), screen([])
    anaemic = [f for f in eligible_facts() if not (getattr(f, "codes", None) and f.codes[0].code == "718-7")]
    ineligible = screen(anaemic + [lab("718-7", 5.0, "g/dL")])  # haemoglobin far too low
    assert (eligible.status, incomplete.status, ineligible.status) == (Status.ELIGIBLE, Status.INCOMPLETE,
                                                                        Status.INELIGIBLE)
    return [eligible, incomplete, ineligible, replace(eligible, status=Status.WAITING, eligible_from=DAY + timedelta(9)),
            replace(ineligible, eligible_until=DAY + timedelta(400))]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url, made = f"sqlite:///{tmp_path / 'log.sqlite'}", None
    else:
        made, url = services.create_database()
    upgrade(url)
    engine = create_engine(url)
    yield engine
    engine.dispose()
    if made is not None:
        services.drop_database(made)


def _step(session, rng: random.Random, pks: list[int], results, n: int) -> None:
    pk = rng.choice(pks)
    now, today = NOW + timedelta(hours=n), DAY + timedelta(days=n // 5)
    latest = session.execute(select(ScreeningRow.pk, ScreeningRow.status, ScreeningRow.as_of)
                             .where(ScreeningRow.patient_pk == pk).order_by(ScreeningRow.pk.desc()).limit(1)).first()
    move = rng.random()
    if move < 0.55:
        result = replace(rng.choice(results), as_of=today)
        screening.add_screening(session, session.get(Patient, pk), result, [], now=now, trigger="data")
    elif move < 0.8:
        outcome = rng.choice(screening_log.OUTCOMES)
        screening_log.add_outcome(session, pk, outcome, "a reason", "coordinator", now, today)
    elif latest is not None and latest.status == "eligible":  # the service signs only an eligible latest
        screening_log.add_confirmation(
            session, patient_pk=pk, screening_pk=latest.pk, token_pk=None, signer_name="investigator",
            role="investigator", site="site-a", signed_at=now, meaning="I confirm", as_of=latest.as_of,
            protocol_version="2026-11", sha256="0" * 64)


def _fill_of_migration():
    path = ROOT / "store" / "migrations" / "versions" / "0019_log_rows.py"
    spec = importlib.util.spec_from_file_location("migration_0019", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._fill


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_maintained_rows_equal_a_recomputation(engine, results, seed):
    rng = random.Random(seed)
    make = sessionmaker(engine)
    with make() as session:
        children = [Patient(id=f"p-{seed}-{n}", registered=True, site="site-a", pending_seq=1, evaluated_seq=1)
                    for n in range(CHILDREN)]
        session.add_all(children)
        session.commit()
        pks = [c.pk for c in children]
    for n in range(STEPS):
        with make() as session:
            _step(session, rng, pks, results, n)
            session.commit()
    with make() as session:
        maintained, recomputed = log_rows.maintained(session), log_rows.recomputed(session)
        assert maintained == recomputed
        assert {row["status"] for row in maintained.values()} - {None}, "some child was screened"
        assert any(row["failing"] for row in maintained.values()), "some criterion failed"
        assert session.scalar(select(func.count()).select_from(Confirmation)), "some child was confirmed"
        session.execute(delete(LogRow))
        _fill_of_migration()(session.connection())
        assert log_rows.maintained(session) == recomputed
        session.rollback()


def test_a_non_eligible_screening_overturns_the_confirmation_and_the_status_since_holds(engine, results):
    eligible, incomplete = results[0], results[1]
    with sessionmaker(engine)() as session:
        child = Patient(id="p-c", registered=True, site="site-a", pending_seq=1, evaluated_seq=1)
        session.add(child)
        session.flush()
        first = screening.add_screening(session, child, eligible, [], now=NOW, trigger="data")
        screening.add_screening(session, child, replace(eligible, as_of=DAY + timedelta(1)), [], now=NOW, trigger="data")
        screening_log.add_confirmation(
            session, patient_pk=child.pk, screening_pk=first + 1, token_pk=None, signer_name="investigator",
            role="investigator", site="site-a", signed_at=NOW, meaning="I confirm", as_of=DAY,
            protocol_version="2026-11", sha256="0" * 64)
        row = log_rows.maintained(session)[child.pk]
        assert (row["first_screened"], row["status_since"]) == (DAY, DAY)
        assert row["confirmed_at"] == "2026-12-01T09:00:00+00:00"
        screening.add_screening(session, child, replace(incomplete, as_of=DAY + timedelta(2)), [], now=NOW,
                                trigger="data")
        row = log_rows.maintained(session)[child.pk]
        assert (row["status"], row["status_since"], row["confirmed_at"]) == ("incomplete", DAY + timedelta(2), None)
        assert row["missing"] and row == log_rows.recomputed(session)[child.pk]
