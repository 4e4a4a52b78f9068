"""Where a child stands in the study, as FHIR says it (contract §16): the ResearchSubject status, the
resources other systems read (ResearchStudy, ResearchSubject, the topic) and the R4 notification
shapes of the Subscriptions Backport IG 1.1. Pure: what the store read goes in, JSON-ready dicts
come out; no name, birth date or record number is ever among them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

STUDY_ID = "myocit"
TOPIC_ID = "eligibility-changed"
TOPIC_URL = "urn:myocit:topic:eligibility-changed"
STATUS_EXTENSION = "urn:myocit:extension:eligibility-status"
ELIGIBLE_FROM_EXTENSION = "urn:myocit:extension:eligible-from"

BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
SUBSCRIPTION_PROFILE = BACKPORT + "backport-subscription"
STATUS_PROFILE = BACKPORT + "backport-subscription-status-r4"
NOTIFICATION_PROFILE = BACKPORT + "backport-subscription-notification-r4"
FILTER_CRITERIA = BACKPORT + "backport-filter-criteria"
PAYLOAD_CONTENT = BACKPORT + "backport-payload-content"
HEARTBEAT_PERIOD = BACKPORT + "backport-heartbeat-period"
TOPIC_EXTENSION = "http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic."

CONTENTS = ("id-only", "full-resource")
FILTERS = ("site", "status")
"""What the topic can be filtered by: the child's site and the new §1 status."""
SCREENING_STATUSES = ("eligible", "waiting", "incomplete", "ineligible")


@dataclass(frozen=True)
class SubjectFacts:
    """What the store knows of one registered child, enough to say its ResearchSubject."""

    patient_id: str
    site: str | None
    screening_status: str | None
    """The §1 status of the latest stored screening; None before the first."""
    eligible_from: date | None
    first_screened_at: datetime | None
    status_changed_at: datetime | None
    """When the ResearchSubject's status last changed (what ``meta.lastUpdated`` says)."""
    outcome: str | None
    """The latest outcome after screening (§8): approached, declined, enrolled, not-approached."""
    consent_ended: bool
    """Consent refused or withdrawn (the child's alerts are stopped)."""
    confirmed: bool
    screening_id: str | None = None
    """The child's screening id (contract §17): what the audit names it by, never shown in a resource."""
    """A signed confirmation (§9) still stands."""


def subject_status(facts: SubjectFacts) -> str:
    """The ResearchSubject ``status`` of contract §16: the first rule that applies."""
    if facts.outcome == "enrolled":
        return "on-study"
    if facts.outcome in ("declined", "not-approached") or facts.consent_ended:
        return "not-registered"
    if facts.screening_status == "eligible":
        return "eligible" if facts.confirmed else "candidate"
    if facts.screening_status in ("waiting", "incomplete"):
        return "screening"
    if facts.screening_status == "ineligible":
        return "ineligible"
    return "potential-candidate"


def instant(moment: datetime) -> str:
    """A FHIR instant: milliseconds, always with its offset (a stored time without one is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def research_subject(facts: SubjectFacts, fallback_updated: datetime) -> dict:
    extensions = []
    if facts.screening_status is not None:
        extensions.append({"url": STATUS_EXTENSION, "valueCode": facts.screening_status})
    if facts.eligible_from is not None:
        extensions.append({"url": ELIGIBLE_FROM_EXTENSION, "valueDate": facts.eligible_from.isoformat()})
    subject = {
        "resourceType": "ResearchSubject",
        "id": facts.patient_id,
        "meta": {"lastUpdated": instant(facts.status_changed_at or fallback_updated)},
        "status": subject_status(facts),
        "study": {"reference": f"ResearchStudy/{STUDY_ID}"},
        "individual": {"reference": f"Patient/{facts.patient_id}"},
    }
    if extensions:
        subject["extension"] = extensions
    if facts.first_screened_at is not None:
        subject["period"] = {"start": instant(facts.first_screened_at)}
    return subject


def research_study() -> dict:
    return {
        "resourceType": "ResearchStudy",
        "id": STUDY_ID,
        "identifier": [{"system": "https://clinicaltrials.gov", "value": "NCT05524311"}],
        "title": "MYOCIT: a JAK inhibitor in new-onset juvenile dermatomyositis",
        "status": "active",
        "phase": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/research-study-phase",
                              "code": "phase-2", "display": "Phase 2"}]},
        "condition": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "M33.0",
                                   "display": "Juvenile dermatomyositis"}]}],
        "sponsor": {"display": "Assistance Publique – Hôpitaux de Paris"},
    }


def topic() -> dict:
    """The topic in its R4 form (a Basic carrying the R5 SubscriptionTopic's elements as extensions)."""
    ext = TOPIC_EXTENSION

    def filter_by(name: str, words: str) -> dict:
        return {"url": ext + "canFilterBy", "extension": [
            {"url": "description", "valueMarkdown": words},
            {"url": "resource", "valueUri": "ResearchSubject"},
            {"url": "filterParameter", "valueString": name}]}

    return {
        "resourceType": "Basic",
        "id": TOPIC_ID,
        "code": {"coding": [{"system": "http://hl7.org/fhir/fhir-types", "code": "SubscriptionTopic"}]},
        "extension": [
            {"url": ext + "url", "valueUri": TOPIC_URL},
            {"url": ext + "name", "valueString": "EligibilityChanged"},
            {"url": ext + "title", "valueString": "A child's eligibility for MYOCIT changed"},
            {"url": ext + "status", "valueCode": "active"},
            {"url": ext + "description", "valueMarkdown": "One event for each alert of contract §5: a child's "
                                                         "overall status changed, or a new candidate appeared."},
            {"url": ext + "resourceTrigger", "extension": [
                {"url": "description", "valueMarkdown": "The ResearchSubject of a child whose status changed"},
                {"url": "resource", "valueUri": "ResearchSubject"},
                {"url": "supportedInteraction", "valueCode": "update"}]},
            filter_by("site", "The child's site"),
            filter_by("status", "The new overall status (contract §1): eligible, waiting, incomplete, ineligible"),
            {"url": ext + "notificationShape", "extension": [{"url": "resource", "valueUri": "ResearchSubject"}]},
        ],
    }


@dataclass(frozen=True)
class NotifiedEvent:
    number: int
    occurred_at: datetime
    focus: str
    resource: dict | None
    """The ResearchSubject as it stood, for ``full-resource``; None for ``id-only``."""


def status_parameters(*, subscription_url: str, status: str, kind: str, events_since_start: int,
                      events: list[NotifiedEvent], base_url: str) -> dict:
    """The backport SubscriptionStatus in its R4 form (a Parameters)."""
    parameters = [
        {"name": "subscription", "valueReference": {"reference": subscription_url}},
        {"name": "topic", "valueCanonical": TOPIC_URL},
        {"name": "status", "valueCode": status},
        {"name": "type", "valueCode": kind},
        {"name": "events-since-subscription-start", "valueString": str(events_since_start)},
    ]
    for event in events:
        parameters.append({"name": "notification-event", "part": [
            {"name": "event-number", "valueString": str(event.number)},
            {"name": "timestamp", "valueInstant": instant(event.occurred_at)},
            {"name": "focus", "valueReference": {"reference": f"{base_url}/fhir/{event.focus}"}}]})
    return {"resourceType": "Parameters", "meta": {"profile": [STATUS_PROFILE]}, "parameter": parameters}


def notification(*, bundle_id: str, subscription_url: str, status: str, kind: str, events_since_start: int,
                 events: list[NotifiedEvent], base_url: str, now: datetime) -> dict:
    """A notification Bundle (``history``): the status first, then one entry per event's focus (with
    the resource for ``full-resource``)."""
    parameters = status_parameters(subscription_url=subscription_url, status=status, kind=kind,
                                   events_since_start=events_since_start, events=events, base_url=base_url)
    parameters["id"] = bundle_id
    entries = [{"fullUrl": f"urn:uuid:{bundle_id}", "resource": parameters,
                "request": {"method": "GET", "url": f"{subscription_url}/$status"},
                "response": {"status": "200"}}]
    for event in events:
        entry = {"fullUrl": f"{base_url}/fhir/{event.focus}",
                 "request": {"method": "PUT", "url": event.focus},
                 "response": {"status": "200"}}
        if event.resource is not None:
            entry["resource"] = event.resource
        entries.append(entry)
    return {"resourceType": "Bundle", "id": bundle_id, "meta": {"profile": [NOTIFICATION_PROFILE]},
            "type": "history", "timestamp": instant(now), "entry": entries}


@dataclass(frozen=True)
class Filters:
    """What a subscription is told of: None means no narrowing."""

    sites: frozenset[str] | None
    statuses: frozenset[str] | None


class FilterError(ValueError):
    pass


def read_filters(criteria: list[str]) -> Filters:
    """``backport-filter-criteria`` values (``ResearchSubject?site=a,b&status=eligible``, or the query
    alone): several are all applied; commas within a value mean any of them."""
    sites: set[str] | None = None
    statuses: set[str] | None = None
    for text in criteria:
        query = text.split("?", 1)[1] if "?" in text else text
        if "?" in text and text.split("?", 1)[0] not in ("ResearchSubject", ""):
            raise FilterError("filter criteria: the topic's resource is ResearchSubject")
        for part in filter(None, query.split("&")):
            name, sep, value = part.partition("=")
            values = {v.strip() for v in value.split(",") if v.strip()}
            if not sep or not values:
                raise FilterError("filter criteria: name=value expected")
            if name == "site":
                values = {v.removeprefix("Organization/") for v in values}
                sites = values if sites is None else sites & values
            elif name == "status":
                if not values <= set(SCREENING_STATUSES):
                    raise FilterError("filter criteria: status is one of " + ", ".join(SCREENING_STATUSES))
                statuses = values if statuses is None else statuses & values
            else:
                raise FilterError("filter criteria: the topic is filtered by site and status only")
    return Filters(None if sites is None else frozenset(sites), None if statuses is None else frozenset(statuses))


def reach(filters: Filters, caller_sites: frozenset[str] | None) -> frozenset[str] | None:
    """The sites a subscription reaches: the caller's (None: every site, an admin), narrowed by the
    ``site`` filter. ``None`` back when a site is asked beyond the caller's."""
    if filters.sites is None:
        return caller_sites
    if caller_sites is not None and not filters.sites <= caller_sites:
        raise PermissionError("a subscription never reaches beyond its creator's sites")
    return filters.sites


def matches(site: str | None, status: str, sites: list[str] | None, statuses: list[str] | None) -> bool:
    """Whether an alert for a child of ``site`` moving to ``status`` is an event of a subscription."""
    return (sites is None or site in sites) and (statuses is None or status in statuses)
