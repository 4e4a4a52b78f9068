"""The worklist's wording from a stored result: what to do, what blocks, when a child is eligible."""

from __future__ import annotations

from datetime import date, datetime, timezone

from web.worklist import ATTESTATION, age, becomes_eligible, blocking, status_changes, todos


def _c(cid, verdict, reason, until=None):
    return {"id": cid, "verdict": verdict, "reason": reason, "until": until}


RESULT = {"eligible_from": None, "next_review_at": "2026-12-09", "criteria": [
    _c("INC-AGE", "pass", "Aged 10"),
    _c("EXC-ORAL", "unknown", "Needs an investigator attestation"),
    _c("EXC-SEVERE-JDM", "unknown", "Needs a new investigator attestation: the attestation of 2026-10-01 is old"),
    _c("INC-SOCSEC", "unknown", "No active coverage recorded"),
    _c("EXC-AME", "unknown", "No active coverage recorded"),
    _c("EXC-INF-HBV", "review", "anti-HBc positive with HBV DNA undetectable"),
    _c("EXC-CMV-PCR", "fail", "CMV DNA detected on 2026-11-25"),
    _c("EXC-LIVE-VACCINE", "fail", "Live vaccine", until="2026-12-09"),
]}


def test_todos_name_the_attestation_or_the_missing_test_and_group_criteria_sharing_one():
    assert [(t.action, t.criteria) for t in todos(RESULT)] == [
        (ATTESTATION, ["EXC-ORAL", "EXC-SEVERE-JDM"]),
        ("No active coverage recorded", ["INC-SOCSEC", "EXC-AME"]),
        ("Review: anti-HBc positive with HBV DNA undetectable", ["EXC-INF-HBV"]),
    ]


def test_only_fails_without_a_date_block_and_a_waiting_child_shows_a_date():
    assert [c["id"] for c in blocking(RESULT)] == ["EXC-CMV-PCR"]
    assert becomes_eligible(RESULT) == ("next automatic review", "2026-12-09")
    assert becomes_eligible({**RESULT, "eligible_from": "2026-12-19"}) == ("eligible from", "2026-12-19")


def test_age_is_in_completed_years_and_the_timeline_keeps_only_changes():
    assert age(date(2016, 12, 2), date(2026, 12, 1)) == 9
    assert age(date(2016, 12, 1), date(2026, 12, 1)) == 10
    at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    day = date(2026, 12, 1)
    events = status_changes([(at, day, "incomplete", "data"), (at, day, "incomplete", "data"),
                             (at, day, "eligible", "schedule")])
    assert [e.what for e in events] == ["first screened: incomplete (as of 2026-12-01, new data)",
                                        "incomplete → eligible (as of 2026-12-01, scheduled re-screening)"]


def test_the_window_names_the_pass_that_ends_it_and_a_fail_lifting_after_it_blocks():
    from web.worklist import timed, window

    cs = {**_c("EXC-PRIOR-CS", "pass", "Prednisolone first started 2026-11-15"), "passes_until": "2026-12-16"}
    age_limit = {**_c("INC-AGE", "pass", "Aged 10"), "passes_until": "2035-11-30"}
    eligible = {"eligible_until": "2026-12-16", "criteria": [age_limit, cs]}
    shown = window(eligible)
    assert (shown.until, shown.criterion, shown.reason) == ("2026-12-16", "EXC-PRIOR-CS",
                                                            "Prednisolone first started 2026-11-15")
    assert window({"eligible_until": None, "criteria": [cs]}) is None
    too_late = {"eligible_until": None, "criteria": [age_limit, cs, _c("EXC-LIVE-VACCINE", "fail", "MMR",
                                                                      until="2026-12-25")]}
    assert [c["id"] for c in blocking(too_late)] == ["EXC-LIVE-VACCINE"] and timed(too_late) == []
    in_time = {"criteria": [cs, _c("EXC-LIVE-VACCINE", "fail", "MMR", until="2026-12-16")]}
    assert blocking(in_time) == [] and [c["id"] for c in timed(in_time)] == ["EXC-LIVE-VACCINE"]


def test_attestations_of_one_message_are_one_timeline_line_that_opens_to_each():
    from web.worklist import Attested, attestation_events

    one = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    other = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    names = {"EXC-ORAL": "Cannot take oral treatment", "INC-JDM-ENMC2018": "New-onset JDM"}.get
    events = attestation_events([Attested(one, "EXC-ORAL", "pass", "dr-a"), Attested(one, "INC-JDM-ENMC2018", "fail", "dr-a"),
                                 Attested(other, "EXC-ORAL", "fail", "dr-b", "new history")], names)
    assert [(e.at, e.what, e.details) for e in events] == [
        (one, "2 attestations recorded together by dr-a",
         ("Cannot take oral treatment (EXC-ORAL) does not apply (pass) by dr-a",
          "New-onset JDM (INC-JDM-ENMC2018) is not met (fail) by dr-a")),
        (other, "attestation: Cannot take oral treatment (EXC-ORAL) applies (fail) by dr-b — reason for change: "
                "new history", ()),
    ]
