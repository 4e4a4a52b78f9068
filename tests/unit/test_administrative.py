"""INC-CONSENT, INC-SOCSEC, EXC-AME and EXC-OTHER-TRIAL: decided by Consent, Coverage and attestation."""

from datetime import timedelta

import pytest

from domain.facts import ConsentState
from tests.builders import AS_OF, attest, consent, coverage, criterion, days_before, finding, screen, verdict

GIVEN, REFUSED, WITHDRAWN = ConsentState.GIVEN, ConsentState.REFUSED, ConsentState.WITHDRAWN
COVERAGE_CRITERIA = ("INC-SOCSEC", "EXC-AME")


# INC-CONSENT


def test_no_consent_is_unknown():
    assert verdict("INC-CONSENT") == "unknown"


@pytest.mark.parametrize(("state", "expected"), [(GIVEN, "pass"), (REFUSED, "fail"), (WITHDRAWN, "fail")])
def test_the_consent_state_decides(state, expected):
    result = criterion(screen([consent(state, on=days_before(5))]), "INC-CONSENT")
    assert (result.verdict.value, result.until) == (expected, None)
    assert days_before(5).isoformat() in result.reason


@pytest.mark.parametrize(
    ("older", "newer", "expected"),
    [(GIVEN, WITHDRAWN, "fail"), (REFUSED, GIVEN, "pass"), (WITHDRAWN, GIVEN, "pass"),
     (GIVEN, REFUSED, "fail")],
)
def test_the_latest_consent_wins(older, newer, expected):
    facts = [consent(newer, on=days_before(2)), consent(older, on=days_before(20))]
    assert verdict("INC-CONSENT", facts) == expected


def test_a_consent_dated_after_as_of_does_not_count_yet():
    assert verdict("INC-CONSENT", [consent(GIVEN, on=AS_OF + timedelta(days=1))]) == "unknown"
    facts = [consent(GIVEN, on=days_before(3)), consent(WITHDRAWN, on=AS_OF + timedelta(days=1))]
    assert verdict("INC-CONSENT", facts) == "pass"


def test_a_given_consent_does_not_go_stale():
    assert finding("INC-CONSENT", [consent(GIVEN, on=days_before(400))]).changes_on is None


# INC-SOCSEC and EXC-AME


@pytest.mark.parametrize(
    ("coverages", "expected"),
    [
        ([], "unknown"),
        (["social-security"], "pass"),
        (["social-security", "ame"], "pass"),
        (["ame"], "fail"),
        (["ame", "ame"], "fail"),
        (["private"], "unknown"),
        (["ame", "private"], "review"),
        (["social-security", "private"], "pass"),
    ],
)
@pytest.mark.parametrize("cid", COVERAGE_CRITERIA)
def test_active_coverages_decide_both_criteria_alike(cid, coverages, expected):
    assert verdict(cid, [coverage(kind, on=days_before(100)) for kind in coverages]) == expected


@pytest.mark.parametrize("cid", COVERAGE_CRITERIA)
def test_an_ame_fail_has_no_until(cid):
    assert criterion(screen([coverage("ame", on=days_before(30))]), cid).until is None


@pytest.mark.parametrize("cid", COVERAGE_CRITERIA)
@pytest.mark.parametrize("status", ["cancelled", "draft", "entered-in-error"])
def test_only_active_coverage_counts(cid, status):
    assert verdict(cid, [coverage("social-security", on=days_before(100), status=status)]) == "unknown"


@pytest.mark.parametrize("cid", COVERAGE_CRITERIA)
@pytest.mark.parametrize(("ends_days_after", "expected"), [(1, "pass"), (0, "pass"), (-1, "unknown")])
def test_social_security_counts_through_the_last_day_of_its_period(cid, ends_days_after, expected):
    cover = coverage("social-security", on=days_before(300), until=AS_OF + timedelta(days=ends_days_after))
    assert verdict(cid, [cover]) == expected


@pytest.mark.parametrize("cid", COVERAGE_CRITERIA)
def test_a_pass_changes_the_day_after_the_social_security_period_ends(cid):
    cover = coverage("social-security", on=days_before(300), until=AS_OF + timedelta(days=10))
    assert finding(cid, [cover]).changes_on == AS_OF + timedelta(days=11)


@pytest.mark.parametrize("cid", COVERAGE_CRITERIA)
def test_an_open_ended_social_security_never_changes_by_itself(cid):
    assert finding(cid, [coverage("social-security", on=days_before(300))]).changes_on is None


@pytest.mark.parametrize("cid", COVERAGE_CRITERIA)
def test_the_longest_of_two_social_security_periods_decides_when_it_changes(cid):
    covers = [coverage("social-security", on=days_before(300), until=AS_OF + timedelta(days=5)),
              coverage("social-security", on=days_before(10), until=AS_OF + timedelta(days=60))]
    assert finding(cid, covers).changes_on == AS_OF + timedelta(days=61)


@pytest.mark.parametrize("cid", COVERAGE_CRITERIA)
def test_ame_ending_soon_fails_now_and_changes_the_day_after(cid):
    found = finding(cid, [coverage("ame", on=days_before(300), until=AS_OF + timedelta(days=3))])
    assert (found.verdict.value, found.until, found.changes_on) == ("fail", None, AS_OF + timedelta(days=4))


@pytest.mark.parametrize("cid", COVERAGE_CRITERIA)
def test_an_ended_social_security_leaves_ame_as_the_only_active_coverage(cid):
    covers = [coverage("social-security", on=days_before(300), until=days_before(1)),
              coverage("ame", on=days_before(1))]
    assert verdict(cid, covers) == "fail"


@pytest.mark.parametrize("cid", COVERAGE_CRITERIA)
def test_an_ended_coverage_only_is_unknown_and_says_when_it_ended(cid):
    result = criterion(screen([coverage("social-security", on=days_before(300), until=days_before(1))]), cid)
    assert result.verdict.value == "unknown"
    assert days_before(1).isoformat() in result.reason


@pytest.mark.parametrize("cid", COVERAGE_CRITERIA)
def test_a_coverage_starting_after_as_of_does_not_count_yet(cid):
    assert verdict(cid, [coverage("social-security", on=AS_OF + timedelta(days=1))]) == "unknown"


@pytest.mark.parametrize("kind", ["Social-Security", " social-security "])
def test_coverage_kinds_are_read_regardless_of_case_and_spacing(kind):
    assert verdict("INC-SOCSEC", [coverage(kind, on=days_before(10))]) == "pass"


def test_coverage_reasons_name_the_kind_of_the_other_coverage():
    result = criterion(screen([coverage("ame"), coverage("private-insurer")]), "EXC-AME")
    assert "private-insurer" in result.reason


# EXC-OTHER-TRIAL


def test_another_trial_is_unknown_without_an_attestation():
    assert verdict("EXC-OTHER-TRIAL") == "unknown"


@pytest.mark.parametrize(
    ("attested", "age_days", "expected"),
    [("pass", 0, "pass"), ("pass", 28, "pass"), ("pass", 29, "unknown"), ("fail", 0, "fail")],
)
def test_another_trial_follows_a_fresh_attestation(attested, age_days, expected):
    note = attest("EXC-OTHER-TRIAL", attested, on=days_before(age_days))
    assert verdict("EXC-OTHER-TRIAL", [note]) == expected


def test_an_attestation_for_another_criterion_does_not_count():
    assert verdict("EXC-OTHER-TRIAL", [attest("EXC-PREG-BF")]) == "unknown"
