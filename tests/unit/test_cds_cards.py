"""The card in the EHR (contract §15) as a table: status and verdicts in, summary, indicator and the
detail's lines out; no card for ineligible or refused consent; never the stored reasons."""

from __future__ import annotations

import pytest

from domain.cds_cards import card_words
from domain.identity import Authority, Known, Refusal, Subject, reader_match


def result(status: str, verdicts: dict[str, tuple[str, str | None]], eligible_from=None, eligible_until=None) -> dict:
    criteria = [{"id": cid, "verdict": verdict, "until": until, "reason": f"secret reason of {cid}"}
                for cid, (verdict, until) in verdicts.items()]
    return {"status": status, "eligible_from": eligible_from, "eligible_until": eligible_until, "as_of": "2026-12-01",
            "protocol_version": "2026-11", "criteria": criteria}


def named(cid: str) -> str:
    return f"name of {cid}"


PASS = ("pass", None)


@pytest.mark.parametrize("stored, summary, indicator, in_detail", [
    (result("eligible", {"INC-AGE": PASS}, eligible_until="2027-03-01"), "MYOCIT: possibly eligible", "warning",
     ["Every criterion", "closes on 2027-03-01"]),
    (result("waiting", {"EXC-LIVE-VACCINE": ("fail", "2026-12-09")}, "2026-12-09"),
     "MYOCIT: eligible from 2026-12-09", "warning", ["name of EXC-LIVE-VACCINE: not met until 2026-12-09"]),
    (result("waiting", {"EXC-LIVE-VACCINE": ("fail", "2026-12-09"), "EXC-CMV-PCR": ("unknown", None)}),
     "MYOCIT: may be eligible, 1 item to check", "warning", ["name of EXC-CMV-PCR: not known yet"]),
    (result("incomplete", {"EXC-CMV-PCR": ("unknown", None), "EXC-HBV": ("review", None), "INC-AGE": PASS}),
     "MYOCIT: may be eligible, 2 items to check", "info",
     ["name of EXC-CMV-PCR: not known yet", "name of EXC-HBV: needs the investigator's review"]),
])
def test_the_card_of_each_status(stored, summary, indicator, in_detail):
    words = card_words(stored, named)
    assert (words.summary, words.indicator) == (summary, indicator)
    for line in in_detail:
        assert line in words.detail
    assert "secret reason" not in words.detail


@pytest.mark.parametrize("stored", [
    result("ineligible", {"EXC-CMV-PCR": ("fail", None)}),
    result("incomplete", {"INC-CONSENT": ("fail", "2026-12-09"), "EXC-CMV-PCR": ("unknown", None)}),
    result("pending", {}),
    {},
])
def test_no_card(stored):
    assert card_words(stored, named) is None


KNOWN = Known(sites={"kid-a": "site-a", "kid-b": "site-b", "twin": "site-a"},
              identifiers={"kid-a": frozenset({("mrn", "A-1")}), "kid-b": frozenset({("mrn", "B-1"), (None, "X")}),
                           "twin": frozenset({("other", "A-1")})})
SITE_A = Authority(frozenset({"site-a"}))


@pytest.mark.parametrize("names, patient, refusal", [
    ((Subject("ident", "A-1", "mrn"),), "kid-a", None),
    ((Subject("ident", "B-1", "mrn"),), None, Refusal.OTHER_SITE),
    ((Subject("ident", "X"),), None, None),
    ((Subject("ident", "A-1"),), None, Refusal.AMBIGUOUS),
    ((Subject("ident", "kid-a"),), "kid-a", None),
    ((Subject("ident", "A-1", "mrn"), Subject("ident", "ehr-internal")), "kid-a", None),
    ((Subject("ident", "A-1", "mrn"), Subject("ident", "twin")), None, Refusal.AMBIGUOUS),
    ((), None, None),
])
def test_the_child_a_reader_names_within_its_sites(names, patient, refusal):
    found = reader_match(names, KNOWN, SITE_A)
    assert (found.patient, found.refusal) == (patient, refusal)
