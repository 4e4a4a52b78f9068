"""The window of opportunity (contract §1.2): passes that time alone ends, ``eligible_until``, and a
waiting child whose window closes before it opens. Boundaries as tables, then properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.protocol_files import load_protocol
from domain.verdicts import CriterionResult, Kind, Status, Verdict, eligible_until, overall_status
from tests.builders import (
    AS_OF,
    child,
    criterion,
    diagnosis,
    eligible_facts,
    lab,
    medicine,
    screen,
    vaccine,
)

DAY = timedelta(days=1)
STARTED = date(2026, 11, 15)
"""Prednisone started on 15 November: the exception passes until 16 December (31 days after)."""
LAST_CS_DAY = date(2026, 12, 16)
BIRTH = date(2008, 3, 10)
"""A child born on 10 March 2008 passes INC-AGE until 9 March 2027, the day before the 19th birthday."""
LAST_AGE_DAY = date(2027, 3, 9)


def prednisone(started: date = STARTED):
    return [medicine("H02AB06", on=started, dose_mg=60), lab("29463-7", 30, "kg", on=started)]


def live_vaccine_lifting_on(until: date):
    """A live vaccine whose 28-day window lets the child pass EXC-LIVE-VACCINE from ``until``."""
    return vaccine("03", on=until - timedelta(days=29))


def facts_on(day: date, *extra):
    """A complete record dated ``day`` (so nothing is stale on ``day``) and the extra facts."""
    return [*eligible_facts(day), *extra]


# -- passes_until at every boundary --------------------------------------------------------------

CS_DAYS = [
    ("the day before the last day", LAST_CS_DAY - DAY, "pass", LAST_CS_DAY),
    ("the last day", LAST_CS_DAY, "pass", LAST_CS_DAY),
    ("the day after", LAST_CS_DAY + DAY, "fail", None),
]


@pytest.mark.parametrize("case,as_of,verdict,passes_until", CS_DAYS, ids=[c[0] for c in CS_DAYS])
def test_the_corticosteroid_exception_passes_until_31_days_after_the_first_start(case, as_of, verdict,
                                                                                 passes_until):
    result = screen(facts_on(as_of - DAY, *prednisone()), as_of=as_of)
    found = criterion(result, "EXC-PRIOR-CS")
    assert (found.verdict.value, found.passes_until) == (verdict, passes_until)
    if verdict == "pass":
        assert result.status is Status.ELIGIBLE and result.eligible_until == LAST_CS_DAY
        assert f"lasts until {LAST_CS_DAY.isoformat()}" in found.reason
    else:
        assert result.status is Status.INELIGIBLE and result.eligible_until is None


AGE_DAYS = [
    ("the day before the last day", LAST_AGE_DAY - DAY, "pass", LAST_AGE_DAY),
    ("the last day", LAST_AGE_DAY, "pass", LAST_AGE_DAY),
    ("the day after: the 19th birthday", LAST_AGE_DAY + DAY, "fail", None),
]


@pytest.mark.parametrize("case,as_of,verdict,passes_until", AGE_DAYS, ids=[c[0] for c in AGE_DAYS])
def test_inc_age_passes_until_the_day_before_the_19th_birthday(case, as_of, verdict, passes_until):
    result = screen(facts_on(as_of), profile=child(birth=BIRTH), as_of=as_of)
    found = criterion(result, "INC-AGE")
    assert (found.verdict.value, found.passes_until) == (verdict, passes_until)
    assert result.eligible_until == passes_until
    if verdict == "pass":
        # The reason travels into alerts: the day before the birthday stays in the field only.
        assert "2027-03" not in found.reason


def test_a_child_born_on_29_february_passes_until_27_february_in_a_year_without_one():
    result = screen(facts_on(date(2026, 12, 1)), profile=child(birth=date(2008, 2, 29)))
    assert criterion(result, "INC-AGE").passes_until == date(2027, 2, 27)


def test_the_earliest_passes_until_is_eligible_until_and_the_result_json_carries_both():
    result = screen(facts_on(AS_OF, *prednisone()), profile=child(birth=BIRTH))
    body = result.to_json()
    assert body["eligible_until"] == "2026-12-16"
    by_id = {c["id"]: c for c in body["criteria"]}
    assert by_id["EXC-PRIOR-CS"]["passes_until"] == "2026-12-16"
    assert by_id["INC-AGE"]["passes_until"] == "2027-03-09"
    assert "passes_until" not in by_id["EXC-ANC"]
    assert list(body) == ["patient", "protocol", "protocol_version", "as_of", "status", "eligible_from",
                          "eligible_until", "next_review_at", "criteria"]


def test_next_review_at_counts_the_day_after_a_pass_ends():
    result = screen(facts_on(AS_OF, *prednisone(STARTED)), as_of=date(2026, 12, 10))
    assert result.next_review_at == LAST_CS_DAY + DAY


def test_incomplete_and_ineligible_children_have_no_eligible_until():
    incomplete = screen(prednisone())
    assert incomplete.status is Status.INCOMPLETE and incomplete.eligible_until is None
    assert criterion(incomplete, "EXC-PRIOR-CS").passes_until == LAST_CS_DAY
    ineligible = screen(facts_on(AS_OF, *prednisone(), diagnosis("C91.0")))
    assert ineligible.status is Status.INELIGIBLE and ineligible.eligible_until is None


# -- a window that opens after it closes ----------------------------------------------------------

WINDOWS = [
    # (case, the day the live vaccine lifts, status, eligible_from, eligible_until)
    ("opens well before it closes", LAST_CS_DAY - 5 * DAY, Status.WAITING, LAST_CS_DAY - 5 * DAY, LAST_CS_DAY),
    ("a one-day window", LAST_CS_DAY, Status.WAITING, LAST_CS_DAY, LAST_CS_DAY),
    ("opens one day too late", LAST_CS_DAY + DAY, Status.INELIGIBLE, None, None),
    ("opens a week too late", LAST_CS_DAY + 7 * DAY, Status.INELIGIBLE, None, None),
]


@pytest.mark.parametrize("case,lifts,status,eligible_from,until", WINDOWS, ids=[w[0] for w in WINDOWS])
def test_a_waiting_child_is_eligible_only_when_its_window_opens_before_it_closes(case, lifts, status,
                                                                                 eligible_from, until):
    result = screen(facts_on(AS_OF, *prednisone(), live_vaccine_lifting_on(lifts)))
    assert (result.status, result.eligible_from, result.eligible_until) == (status, eligible_from, until)
    vaccine_fail = criterion(result, "EXC-LIVE-VACCINE")
    assert vaccine_fail.verdict is Verdict.FAIL and vaccine_fail.until == lifts
    if status is Status.INELIGIBLE:
        assert "the window closes first: EXC-PRIOR-CS passes only until 2026-12-16" in vaccine_fail.reason
    else:
        assert "window closes first" not in vaccine_fail.reason


def test_the_one_day_window_is_eligible_on_its_day_and_not_the_day_after():
    facts = facts_on(AS_OF, *prednisone(), live_vaccine_lifting_on(LAST_CS_DAY))
    on_the_day = screen(facts, as_of=LAST_CS_DAY)
    assert (on_the_day.status, on_the_day.eligible_until) == (Status.ELIGIBLE, LAST_CS_DAY)
    assert screen(facts, as_of=LAST_CS_DAY + DAY).status is Status.INELIGIBLE


def test_the_reported_case_a_live_vaccine_lifting_after_the_steroid_exception_ends():
    """Issue 18: "Eligible from 2026-12-24" while the exception had ended the day before."""
    facts = facts_on(AS_OF, medicine("H02AB06", on=date(2026, 11, 21), dose_mg=60), lab("29463-7", 30, "kg"),
                     live_vaccine_lifting_on(date(2026, 12, 24)))
    result = screen(facts)
    assert (result.status, result.eligible_from, result.eligible_until) == (Status.INELIGIBLE, None, None)
    assert "EXC-PRIOR-CS passes only until 2026-12-22" in criterion(result, "EXC-LIVE-VACCINE").reason


def _result(cid: str, verdict: Verdict, until: date | None = None, passes_until: date | None = None):
    return CriterionResult(cid, Kind.EXCLUSION, verdict, "", (), until, passes_until)


DECIDED = [
    ("passes without an end", [], Status.ELIGIBLE, None, None),
    ("a pass that ends", [_result("A", Verdict.PASS, passes_until=AS_OF)], Status.ELIGIBLE, None, AS_OF),
    ("the earliest end counts",
     [_result("A", Verdict.PASS, passes_until=AS_OF + 9 * DAY), _result("B", Verdict.PASS, passes_until=AS_OF + DAY)],
     Status.ELIGIBLE, None, AS_OF + DAY),
    ("waiting, lifted on the last day",
     [_result("A", Verdict.PASS, passes_until=AS_OF + DAY), _result("B", Verdict.FAIL, until=AS_OF + DAY)],
     Status.WAITING, AS_OF + DAY, AS_OF + DAY),
    ("waiting, lifted a day late",
     [_result("A", Verdict.PASS, passes_until=AS_OF + DAY), _result("B", Verdict.FAIL, until=AS_OF + 2 * DAY)],
     Status.INELIGIBLE, None, None),
    ("waiting and undecided, lifted a day late: time alone cannot help",
     [_result("A", Verdict.PASS, passes_until=AS_OF + DAY), _result("B", Verdict.FAIL, until=AS_OF + 2 * DAY),
      _result("C", Verdict.UNKNOWN)], Status.INELIGIBLE, None, None),
    ("waiting and undecided, in time: no eligible_from, the window shown",
     [_result("A", Verdict.PASS, passes_until=AS_OF + DAY), _result("B", Verdict.FAIL, until=AS_OF + DAY),
      _result("C", Verdict.REVIEW)], Status.WAITING, None, AS_OF + DAY),
    ("incomplete: no window", [_result("A", Verdict.PASS, passes_until=AS_OF), _result("C", Verdict.UNKNOWN)],
     Status.INCOMPLETE, None, None),
]


@pytest.mark.parametrize("case,results,status,eligible_from,until", DECIDED, ids=[d[0] for d in DECIDED])
def test_status_and_window_from_verdicts(case, results, status, eligible_from, until):
    results = tuple(results)
    assert overall_status(results) == (status, eligible_from)
    assert eligible_until(status, results) == until


# -- properties ----------------------------------------------------------------------------------

LASTING = load_protocol()
LASTING = LASTING.model_copy(update={"validity": LASTING.validity.model_copy(
    update={name: 3650 for name, value in LASTING.validity if value is not None})})
"""Results that stay usable for ten years: ``eligible_from`` does not foresee results going stale
(§1), so the properties hold the data still; only time-lifted fails and ending passes move."""

offsets = st.integers(min_value=-120, max_value=0)
records = st.fixed_dictionaries({
    "birth": st.dates(min_value=date(2007, 6, 1), max_value=date(2024, 6, 1)),
    "steroid": st.one_of(st.none(), st.integers(min_value=0, max_value=60)),
    "vaccine": st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
    "hsv": st.one_of(st.none(), st.integers(min_value=0, max_value=100)),
    "data": offsets,
    "as_of": st.integers(min_value=0, max_value=30),
})


def _record(drawn):
    as_of = AS_OF + timedelta(days=drawn["as_of"])
    data_day = AS_OF + timedelta(days=drawn["data"])
    facts = eligible_facts(data_day)
    if drawn["steroid"] is not None:
        facts += [medicine("H02AB06", on=as_of - timedelta(days=drawn["steroid"]), dose_mg=80),
                  lab("29463-7", 30, "kg", on=data_day)]
    if drawn["vaccine"] is not None:
        facts.append(vaccine("03", on=as_of - timedelta(days=drawn["vaccine"])))
    if drawn["hsv"] is not None:
        day = as_of - timedelta(days=drawn["hsv"])
        facts.append(diagnosis("B00.1", on=day, abated=day, status="resolved"))
    return facts, child(birth=drawn["birth"]), as_of


@settings(max_examples=300, deadline=None)
@given(records)
def test_on_eligible_from_with_no_new_data_the_child_is_eligible(drawn):
    facts, profile, as_of = _record(drawn)
    result = screen(facts, profile=profile, as_of=as_of, protocol=LASTING)
    if result.eligible_from is None:
        return
    later = screen(facts, profile=profile, as_of=result.eligible_from, protocol=LASTING)
    assert later.status is Status.ELIGIBLE, [(c.id, c.reason) for c in later.criteria if c.verdict is not Verdict.PASS]
    if result.eligible_until is not None:
        assert later.eligible_until == result.eligible_until


@settings(max_examples=300, deadline=None)
@given(records)
def test_the_day_after_eligible_until_the_child_is_not_eligible(drawn):
    facts, profile, as_of = _record(drawn)
    result = screen(facts, profile=profile, as_of=as_of, protocol=LASTING)
    if result.eligible_until is None:
        return
    assert screen(facts, profile=profile, as_of=result.eligible_until + DAY, protocol=LASTING).status \
        is not Status.ELIGIBLE


@settings(max_examples=200, deadline=None)
@given(records)
def test_a_child_ineligible_only_because_its_window_closes_first_is_never_eligible_later(drawn):
    facts, profile, as_of = _record(drawn)
    result = screen(facts, profile=profile, as_of=as_of, protocol=LASTING)
    waits = [c for c in result.criteria if c.verdict is Verdict.FAIL]
    if result.status is not Status.INELIGIBLE or not waits or any(c.until is None for c in waits):
        return
    last = max(c.until for c in waits)
    for day in (as_of, last - DAY, last, last + DAY):
        if day >= as_of:
            assert screen(facts, profile=profile, as_of=day, protocol=LASTING).status is not Status.ELIGIBLE


def test_the_text_report_shows_the_window_and_each_pass_that_ends():
    from myocit.report import render_text

    text = render_text(screen(facts_on(AS_OF, *prednisone())))
    assert "eligible until 2026-12-16" in text
    assert "EXC-PRIOR-CS" in text and "(passes until 2026-12-16)" in text
