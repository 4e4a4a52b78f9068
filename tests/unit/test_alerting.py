"""When a stored screening raises an alert (domain.alerting): the table of cases, no database."""

from __future__ import annotations

from datetime import date

import pytest

from domain.alerting import AlertsStopped, EligibilityChanged, decide
from domain.verdicts import CriterionResult, Screening, Status, Verdict

DAY = date(2026, 12, 1)


def screening(status: Status, **verdicts: Verdict) -> Screening:
    ids = {"INC-CONSENT": Verdict.PASS, "EXC-CMV-PCR": Verdict.PASS, "EXC-ANC": Verdict.PASS}
    ids.update({k.replace("_", "-"): v for k, v in verdicts.items()})
    criteria = tuple(CriterionResult(cid, "inclusion" if cid.startswith("INC") else "exclusion", verdict, "reason")
                     for cid, verdict in ids.items())
    return Screening("p-1", "MYOCIT", "2026-11", DAY, status, None, None, criteria)


ELIGIBLE = {"INC-CONSENT": "pass", "EXC-CMV-PCR": "pass", "EXC-ANC": "pass"}
CMV = screening(Status.INELIGIBLE, EXC_CMV_PCR=Verdict.FAIL)
REFUSED = screening(Status.INELIGIBLE, INC_CONSENT=Verdict.FAIL)

CASES = [
    ("first screening ineligible: nothing to tell", None, False, CMV, None, []),
    ("first screening incomplete: nothing to tell", None, False,
     screening(Status.INCOMPLETE, EXC_CMV_PCR=Verdict.UNKNOWN), None, []),
    ("first screening eligible: a new candidate", None, False, screening(Status.ELIGIBLE), None,
     [EligibilityChanged(None, "eligible", ())]),
    ("first screening waiting: a new candidate", None, False,
     screening(Status.WAITING, EXC_ANC=Verdict.FAIL), None, [EligibilityChanged(None, "waiting", ())]),
    ("first screening eligible but stopped: nothing", None, True, screening(Status.ELIGIBLE), None, []),
    ("first screening with consent refused: alerts stop", None, False, REFUSED, None, [AlertsStopped()]),
    ("status changes: one alert naming what changed", "eligible", False, CMV, ELIGIBLE,
     [EligibilityChanged("eligible", "ineligible", ("EXC-CMV-PCR",))]),
    ("same status: no alert, whatever changed", "ineligible", False,
     screening(Status.INELIGIBLE, EXC_CMV_PCR=Verdict.FAIL, EXC_ANC=Verdict.FAIL),
     {**ELIGIBLE, "EXC-CMV-PCR": "fail"}, []),
    ("consent refused: the stop, not the change it causes", "eligible", False, REFUSED, ELIGIBLE, [AlertsStopped()]),
    ("after a stop: nothing, even a status change", "ineligible", True, screening(Status.ELIGIBLE), None, []),
    ("after a stop, still refused: nothing", "ineligible", True, REFUSED, None, []),
    ("back to eligible: one alert", "ineligible", False, screening(Status.ELIGIBLE),
     {**ELIGIBLE, "EXC-CMV-PCR": "fail"}, [EligibilityChanged("ineligible", "eligible", ("EXC-CMV-PCR",))]),
]


@pytest.mark.parametrize("case,stored,stopped,new,before,expected", CASES, ids=[c[0] for c in CASES])
def test_the_alert_decision(case, stored, stopped, new, before, expected):
    assert decide(stored, stopped, new, before) == expected
