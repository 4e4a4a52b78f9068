"""What the service and the domain say to a person on the pages, as the catalog's templates (contract
§18): the service and the domain write English (the API and the command line answer it as it is), and
a page writes each sentence in its reader's language through ``config.language.sentence_in``, the
values found in the English placed in the translation.

A sentence the service makes with values is listed here with ``{name}`` placeholders; one without
values is a catalog id as it is. ``tests/web/test_french_errors.py`` finds the sentences the use
cases of the pages raise and checks each is listed and written in French."""

from __future__ import annotations

from config import language
from web.page_kit import N_

SERVICE_SENTENCES = (
    # Not found, not allowed (service/pages.py, judgements.py, alerts.py, replay.py, screening_log.py).
    N_("no patient {id} for this site"), N_("No patient {id} for this site."), N_("no alert {id} for this site"),
    N_("site {site} is not one of yours"), N_("no registered patient {id}"),
    # A signature (service/confirmations.py; why, domain/confirmation.py::refusal).
    N_("the meaning is at most {count} characters"),
    N_("eligibility cannot be signed: the child has no stored screening yet"),
    N_("eligibility cannot be signed: data arrived after the latest stored screening and it is being "
       "re-screened; sign once it is stored"),
    N_("eligibility cannot be signed: the latest stored screening is as of {stored}, not {asked}"),
    N_("eligibility cannot be signed: the latest stored screening is {status}, not eligible"),
    # An attestation or a consent decision (service/judgements.py).
    N_("Choose a verdict for at least one criterion."), N_("Give each criterion one verdict."),
    N_("Choose one of the criteria that need an investigator's attestation."),
    N_("Choose whether {criterion} stands in the way (fail) or not (pass)."),
    N_("Give a justification for {criterion} (up to 2000 characters), or one for all."),
    N_("Give a reason for change of up to 2000 characters."),
    N_("{criterion} already has an attestation: give the reason for changing it."),
    N_("Choose whether consent was refused or withdrawn."),
    # An outcome (service/screening_log.py).
    N_("outcome must be one of {outcomes}"), N_("a reason is required when the outcome is {outcome}"),
    N_("the reason is at most {count} characters"),
)
WORDS = ("status", "role", "roles", "outcome", "outcomes")
"""Placeholders whose values are words of the catalog (a status, a role, an outcome), translated too."""

REFUSALS = (
    # domain/identity.py::Refusal's explanations (contract §13), shown after "The form could not be recorded".
    N_("the patient belongs to a site this sender may not send for"),
    N_("the patient is registered at another site; a child's site is fixed at registration and only an "
       "administrator moves it (myocit patient move)"),
    N_("Patient.managingOrganization is required (Organization/{site}): this sender acts for several sites"),
    N_("an identifier (system and value) of this Patient is already held by another patient"),
    N_("an identifier of this Patient belongs to a system bound to other sites (myocit site identifier-system)"),
    N_("patient not identified: the identifier matches several patients of this sender's sites; send its "
       "system (FHIR) or a mapped assigning authority (HL7 v2)"),
    N_("attestations (urn:myocit:criterion) are accepted only from an investigator's token"),
    N_("an investigator's token posts attestations and consent decisions only"),
)

SIGN_IN_SENTENCES = (
    # Who may sign in (domain/access.py::grant, service/sessions.py::role_refusal); the flow's own
    # sentences are ids where service/oidc.py raises them.
    N_("Your hospital account is in no group that has access to myocit. Ask the trial's administrator to "
       "give your group access."),
    N_("Your hospital groups give more than one role in myocit ({roles}), so none is given. Ask the trial's "
       "administrator to map your groups to one role."),
    N_("The {role} role has no pages in myocit."),
    # A signature's re-authentication (domain/access.py::reauthentication_problem).
    N_("The hospital account that signed in again is not the one signing. Nothing was signed."),
    N_("The hospital's sign-in service did not say when you signed in again. Nothing was signed."),
    N_("You were not asked for your credentials again for this signature. Nothing was signed."),
)


def said_by_service(text: str) -> str:
    """A sentence of the service (an error's), in the page's language."""
    return language.sentence_in(text, SERVICE_SENTENCES, language.current(), WORDS)


def refusal_said(explanation: str) -> str:
    """A §13 refusal's explanation, in the page's language."""
    return language.gettext(explanation)


def said_at_sign_in(text: str) -> str:
    """Why a sign-in (or a signature's re-authentication) failed, in the page's language."""
    return language.sentence_in(text, SIGN_IN_SENTENCES, language.current(), WORDS)
