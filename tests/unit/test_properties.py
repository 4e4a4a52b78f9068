"""Properties that hold for any record: order, the future, retractions, status precedence, time-lifted fails."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.criteria import ORDER
from domain.facts import ConsentState, Diagnosis, Qualitative, Sex
from domain.record import resource_of
from domain.verdicts import CriterionResult, Kind, Status, Verdict, overall_status
from tests.builders import (
    AS_OF,
    attest,
    child,
    consent,
    coverage,
    diagnosis,
    lab,
    medicine,
    score,
    screen,
    vaccine,
)

days = st.integers(min_value=-150, max_value=40).map(lambda n: AS_OF + timedelta(days=n))
sources = st.sampled_from([f"Observation/o{i}" for i in range(6)])


def _labs():
    quantitative = st.builds(
        lambda code, unit, value, on, src: lab(code, value, unit, on=on, source=src),
        st.sampled_from(["718-7", "751-8", "731-0", "2160-0", "14682-9", "8302-2", "29463-7"]),
        st.sampled_from(["g/dL", "g/L", "10*9/L", "G/L", "/uL", "mg/dL", "umol/L", "cm", "kg"]),
        st.floats(min_value=0, max_value=400, allow_nan=False),
        days,
        sources,
    )
    qualitative = st.builds(
        lambda code, answer, on, src: lab(code, answer=answer, on=on, source=src),
        st.sampled_from(["4996-5", "19162-7", "5196-1", "13955-0", "56888-1", "71773-6", "2106-3", "3181-5"]),
        st.sampled_from(list(Qualitative)),
        days,
        sources,
    )
    return st.one_of(quantitative, qualitative)


facts_strategy = st.lists(
    st.one_of(
        _labs(),
        st.builds(lambda code, on: vaccine(code, on=on), st.sampled_from(["03", "21", "140", "188"]), days),
        st.builds(lambda code, on: diagnosis(code, on=on), st.sampled_from(["B00.1", "C91.0", "I80.2", "J18"]), days),
        st.builds(lambda code, on, dose: medicine(code, on=on, dose_mg=dose),
                  st.sampled_from(["H02AB06", "L04AX03", "L04AF02", "J01CA04"]), days,
                  st.one_of(st.none(), st.floats(min_value=1, max_value=80))),
        st.builds(lambda cid, v, on: attest(cid, v, on=on), st.sampled_from(ORDER), st.sampled_from(["pass", "fail"]), days),
        st.builds(lambda s, on: consent(s, on=on), st.sampled_from(list(ConsentState)), days),
        st.builds(lambda k, on: coverage(k, on=on), st.sampled_from(["social-security", "ame"]), days),
        st.builds(lambda code, v, on: score(code, v, on=on), st.sampled_from(["MMT8", "CMAS"]),
                  st.integers(min_value=0, max_value=80), days),
    ),
    max_size=25,
)
profiles = st.builds(
    lambda years, sex: child(years, sex=sex), st.integers(min_value=1, max_value=20), st.sampled_from(list(Sex))
)


@settings(max_examples=150, deadline=None)
@given(facts=facts_strategy, profile=profiles, data=st.data())
def test_results_do_not_depend_on_the_order_of_entries(facts, profile, data):
    shuffled = data.draw(st.permutations(facts))
    assert screen(facts, profile=profile) == screen(shuffled, profile=profile)


@settings(max_examples=150, deadline=None)
@given(facts=facts_strategy, future=facts_strategy, profile=profiles)
def test_facts_dated_after_as_of_never_change_a_result(facts, future, profile):
    past = [f for f in facts if f.on <= AS_OF]
    # A new version of a resource already held replaces it whatever its date: only new resources here.
    held = {f.source for f in past}
    later = [f for f in future if f.on > AS_OF and f.source not in held]
    before = screen(past, profile=profile)
    after = screen(past + later, profile=profile)
    assert before.criteria == after.criteria
    assert before.status == after.status and before.eligible_from == after.eligible_from


def _stored(facts):
    """The facts as versions stored one after the other: arrival order is the revision (§13)."""
    return [replace(f, revision=i) for i, f in enumerate(facts)]


def _retraction(fact, revision: int):
    """A new version of ``fact``'s resource that says it was entered in error (contract §1.1)."""
    if isinstance(fact, Diagnosis):
        return replace(fact, verification="entered-in-error", revision=revision)
    return replace(fact, status="entered-in-error", revision=revision)


@settings(max_examples=150, deadline=None)
@given(facts=facts_strategy.filter(bool), profile=profiles, data=st.data())
def test_retracting_any_version_leaves_no_verdict_that_depended_on_it(facts, profile, data):
    stored = _stored(facts)
    target = data.draw(st.sampled_from(stored))
    resource = resource_of(target.source)
    retracted = screen([*stored, _retraction(target, len(stored))], profile=profile)
    assert retracted == screen([f for f in stored if resource_of(f.source) != resource], profile=profile)
    for item in retracted.criteria:
        assert all(resource_of(e.resource) != resource for e in item.evidence), item


@settings(max_examples=100, deadline=None)
@given(facts=facts_strategy.filter(bool), profile=profiles, data=st.data())
def test_a_retraction_followed_by_a_new_version_leaves_only_the_new_version(facts, profile, data):
    stored = _stored(facts)
    target = data.draw(st.sampled_from(stored))
    again = replace(target, revision=len(stored) + 1)
    with_retraction = [*stored, _retraction(target, len(stored)), again]
    assert screen(with_retraction, profile=profile) == screen([*stored, again], profile=profile)


verdict_lists = st.lists(
    st.tuples(st.sampled_from(list(Verdict)), st.one_of(st.none(), days)), min_size=34, max_size=34
)


@given(verdict_lists)
def test_status_follows_the_contract_precedence(pairs):
    results = tuple(
        CriterionResult(cid, Kind.INCLUSION, v, "", (), until if v is Verdict.FAIL else None)
        for cid, (v, until) in zip(ORDER, pairs)
    )
    status, eligible_from = overall_status(results)
    verdicts = [r.verdict for r in results]
    fails = [r for r in results if r.verdict is Verdict.FAIL]
    undecided = Verdict.UNKNOWN in verdicts or Verdict.REVIEW in verdicts
    if any(r.until is None for r in fails):
        assert status is Status.INELIGIBLE and eligible_from is None
    elif fails:
        assert status is Status.WAITING
        assert eligible_from == (None if undecided else max(r.until for r in fails))
    elif undecided:
        assert status is Status.INCOMPLETE
    else:
        assert status is Status.ELIGIBLE


@settings(max_examples=150, deadline=None)
@given(facts=facts_strategy, profile=profiles)
def test_a_fail_with_until_passes_on_until_when_nothing_else_changes(facts, profile):
    result = screen(facts, profile=profile)
    for item in result.criteria:
        if item.verdict is Verdict.FAIL and item.until is not None:
            # Nothing else changes: no fact becomes visible between as_of and until.
            if any(AS_OF < f.on <= item.until for f in facts):
                continue
            later = screen(facts, profile=profile, as_of=item.until)
            assert next(c for c in later.criteria if c.id == item.id).verdict is not Verdict.FAIL, item


@settings(max_examples=100, deadline=None)
@given(facts=facts_strategy, profile=profiles)
def test_nothing_changes_before_next_review_at(facts, profile):
    result = screen(facts, profile=profile)
    if result.next_review_at is None or result.next_review_at - AS_OF > timedelta(days=60):
        return
    day_before = result.next_review_at - timedelta(days=1)
    if day_before <= AS_OF:
        return
    assert [c.verdict for c in screen(facts, profile=profile, as_of=day_before).criteria] == [
        c.verdict for c in result.criteria
    ]


def test_every_result_lists_all_34_criteria_in_contract_order():
    assert [c.id for c in screen([]).criteria] == list(ORDER)
    assert date(2026, 12, 1) == AS_OF
