"""Words the catalogs translate that no ``_()`` or ``said_as()`` names where they are written: values a
page shows through its ``word`` filter (statuses, verdicts, kinds, roles) and the terms the rules
pass as values into their reasons (a reading, a consent state, a clinical status, a label built at
run time). Listed here so that ``make messages`` extracts them (contract §18)."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


SHOWN = (
    N_("eligible"), N_("waiting"), N_("incomplete"), N_("ineligible"),
    N_("pass"), N_("fail"), N_("unknown"), N_("review"),
    N_("inclusion"), N_("exclusion"),
    N_("coordinator"), N_("investigator"), N_("admin"), N_("lab"), N_("Investigator attestation"),
    N_("[date withheld]"), N_("Not signed"), N_("monitor"),
    # An outcome as the service names it (store/screening_log.py::OUTCOMES): the screening log's
    # column, and inside a sentence on a page.
    N_("approached"), N_("declined"), N_("enrolled"), N_("not-approached"),
    # The sentence a monitor reads on the sign-in page (service/sessions.py::MONITOR_REFUSAL).
    N_("A monitor reads the screening log and funnel of its sites through the API (GET /screening-log, "
       "GET /funnel), with pseudonyms; the pages show children and are not open to monitors."),
    # Why a clinician dismissed a card in the EHR (domain/cds_cards.py::OVERRIDE_REASONS), on the pages.
    N_("Family not interested"), N_("Not clinically appropriate now"), N_("Already discussed with the research team"),
    N_("WARNING: an investigator's signed confirmation of this child's eligibility has been overturned "
       "by data received after it was signed. Do not enrol or dose the child on that confirmation."),
)

IN_REASONS = (
    N_("{first}; {then}"), N_("{first}, {then}"),
    N_("is met"), N_("is not met"), N_("does not apply"), N_("applies"),
    N_("given"), N_("refused"), N_("withdrawn"),
    N_("positive"), N_("negative"), N_("equivocal"),
    N_("detected below the limit of quantification"), N_("a value without the lab's interpretation"),
    N_("a value that contradicts the lab's interpretation"),
    N_("abated"), N_("onset"), N_("active"), N_("recurrence"), N_("relapse"),
    N_("lupus anticoagulant"), N_("anticardiolipin"), N_("anti-β2-glycoprotein 1"),
    N_("pregnancy"), N_("breastfeeding"), N_("lymphocyte"), N_("neutrophil"), N_("VZV IgG"), N_("MMT8"), N_("CMAS"),
)
