"""The ResearchSubject status of contract §16 (first rule that applies), the topic's filters and a
subscription's reach, as tables."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from domain.research import (FilterError, Filters, SubjectFacts, matches, reach, read_filters, research_subject,
                             subject_status)

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)


def facts(status=None, *, outcome=None, consent_ended=False, confirmed=False, eligible_from=None) -> SubjectFacts:
    return SubjectFacts("p-1", "site-a", status, eligible_from, NOW if status else None, NOW if status else None,
                        outcome, consent_ended, confirmed)


@pytest.mark.parametrize("given, expected", [
    (facts("eligible", outcome="enrolled"), "on-study"),
    (facts("ineligible", outcome="enrolled", consent_ended=True), "on-study"),
    (facts("eligible", outcome="declined"), "not-registered"),
    (facts("eligible", outcome="not-approached", confirmed=True), "not-registered"),
    (facts("eligible", consent_ended=True, confirmed=True), "not-registered"),
    (facts(None, consent_ended=True), "not-registered"),
    (facts("eligible", confirmed=True), "eligible"),
    (facts("eligible", outcome="approached", confirmed=True), "eligible"),
    (facts("eligible"), "candidate"),
    (facts("eligible", outcome="approached"), "candidate"),
    (facts("waiting"), "screening"),
    (facts("incomplete"), "screening"),
    (facts("ineligible"), "ineligible"),
    (facts("ineligible", confirmed=True), "ineligible"),
    (facts(None), "potential-candidate"),
])
def test_the_first_rule_that_applies_gives_the_status(given, expected):
    assert subject_status(given) == expected


def test_a_subject_carries_the_extensions_only_when_set():
    waiting = research_subject(facts("waiting", eligible_from=date(2026, 12, 9)), NOW)
    assert waiting["extension"] == [
        {"url": "urn:myocit:extension:eligibility-status", "valueCode": "waiting"},
        {"url": "urn:myocit:extension:eligible-from", "valueDate": "2026-12-09"}]
    assert waiting["period"] == {"start": "2026-12-01T09:30:00.000Z"}
    never = research_subject(facts(None), NOW)
    assert "extension" not in never and "period" not in never
    assert never["meta"]["lastUpdated"] == "2026-12-01T09:30:00.000Z"


@pytest.mark.parametrize("criteria, expected", [
    ([], Filters(None, None)),
    (["ResearchSubject?site=a"], Filters(frozenset({"a"}), None)),
    (["ResearchSubject?site=Organization/a"], Filters(frozenset({"a"}), None)),
    (["site=a,b&status=eligible"], Filters(frozenset({"a", "b"}), frozenset({"eligible"}))),
    (["site=a,b", "site=b,c"], Filters(frozenset({"b"}), None)),
    (["?status=waiting,ineligible"], Filters(None, frozenset({"waiting", "ineligible"}))),
])
def test_filter_criteria_are_read(criteria, expected):
    assert read_filters(criteria) == expected


@pytest.mark.parametrize("criteria", [["Patient?site=a"], ["code=x"], ["site="], ["site"], ["status=enrolled"]])
def test_filter_criteria_beyond_the_topic_are_refused(criteria):
    with pytest.raises(FilterError):
        read_filters(criteria)


@pytest.mark.parametrize("filters, caller, expected", [
    (Filters(None, None), None, None),
    (Filters(None, None), frozenset({"a"}), frozenset({"a"})),
    (Filters(frozenset({"a"}), None), frozenset({"a", "b"}), frozenset({"a"})),
    (Filters(frozenset({"z"}), None), None, frozenset({"z"})),
    (Filters(frozenset({"b"}), None), frozenset({"a"}), PermissionError),
    (Filters(frozenset({"a", "b"}), None), frozenset({"a"}), PermissionError),
])
def test_a_subscription_never_reaches_beyond_its_creators_sites(filters, caller, expected):
    if expected is PermissionError:
        with pytest.raises(PermissionError):
            reach(filters, caller)
    else:
        assert reach(filters, caller) == expected


@pytest.mark.parametrize("site, status, sites, statuses, expected", [
    ("a", "eligible", None, None, True),
    ("a", "eligible", ["a"], ["eligible"], True),
    ("b", "eligible", ["a"], None, False),
    ("a", "waiting", None, ["eligible"], False),
    (None, "eligible", ["a"], None, False),
])
def test_an_alert_is_an_event_of_the_subscriptions_it_matches(site, status, sites, statuses, expected):
    assert matches(site, status, sites, statuses) is expected
