"""The screening log and funnel (contract §8): outcomes recorded after screening, and the live log of
every child screened, kept from myocit's own records."""

from __future__ import annotations

import csv
import io
import operator
from datetime import date

from domain.criteria import ORDER
from domain.cds_cards import OVERRIDE_REASONS
from domain.privacy import Keyring
from store import audit, cds, screening_log, tombstones, views
from store.uow import UnitOfWork
from service.bulk import cycle_collection_paused
from service.commands import RecordOutcome
from service.errors import Invalid, NotFound
from service.ports import Clock

COLUMNS = ("patient", "site", "first_screened", "status", "status_since", "eligible_from", "failing", "missing",
           "review", "outcome", "outcome_date", "confirmed_at", "protocol_version", "eligible_until")
"""Contract §8, in order (``eligible_until``, §1.2, last: readers of the earlier columns by position keep
working). No name, birth date, record number or free text (an outcome's reason is
free text: it is kept, never logged here)."""
STATUSES = ("eligible", "waiting", "incomplete", "ineligible")
NEEDS_REASON = ("declined", "not-approached")
APPROACHED = ("approached", "declined", "enrolled")
MAX_REASON = 2000


def outcome_json(row, patient_id: str) -> dict:
    return {"patient": patient_id, "outcome": row.outcome, "reason": row.reason, "recorded_by": row.recorded_by,
            "recorded_at": views.utc(row.recorded_at).isoformat(), "outcome_date": row.recorded_on.isoformat()}


def record_outcome(cmd: RecordOutcome, uow: UnitOfWork, *, clock: Clock) -> dict:
    """Keep what happened after screening, with who and when; the latest stands. ``NotFound`` for a
    child not of the recorder's sites, ``Invalid`` for an unknown outcome or a missing reason."""
    if cmd.outcome not in screening_log.OUTCOMES:
        raise Invalid(f"outcome must be one of {', '.join(screening_log.OUTCOMES)}")
    reason = (cmd.reason or "").strip()
    if cmd.outcome in NEEDS_REASON and not reason:
        raise Invalid(f"a reason is required when the outcome is {cmd.outcome}")
    if len(reason) > MAX_REASON:
        raise Invalid(f"the reason is at most {MAX_REASON} characters")
    with uow:
        row = views.visible_patient(uow.session, cmd.recorder, cmd.patient_id)
        if row is None:
            raise NotFound(f"no patient {cmd.patient_id} for this site")
        now = clock.now()
        stored = screening_log.add_outcome(uow.session, row.pk, cmd.outcome, reason or None, cmd.recorder.name,
                                           now, clock.today())
        audit.record(uow.session, cmd.recorder, f"outcome-{cmd.outcome}", None, now,
                     role=cmd.recorder.role, screening_id=row.screening_id)
        body = outcome_json(stored, row.id)
        uow.commit()
    return body


def _cell(value) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def log_row(entry: views.LogEntry) -> dict:
    """One child's row: the §8 columns in order (the entry's own order); lists of criterion ids joined by ``;``."""
    return dict(zip(COLUMNS, entry))


def _entries(reader, uow: UnitOfWork, clock: Clock, site, first_from, first_to, action: str):
    if site is not None and not reader.sees_site(site):
        raise NotFound(f"site {site} is not one of yours")
    with uow:
        entries = views.screening_log(uow.session, reader, site=site, first_from=first_from, first_to=first_to)
        if reader.role == "monitor":
            entries = pseudonymised(entries, tombstones.keyring_of(uow.session))
        audit.record(uow.session, reader, action, f"Site/{site or reader.site_label}", clock.now(),
                     role=reader.role)
        uow.commit()
    return entries


def pseudonymised(entries: list[views.LogEntry], keyring: Keyring) -> list[views.LogEntry]:
    """The sponsor's view (contract §17): the ``patient`` column is the keyed pseudonym of the child's
    site and of the id the site's own log names it by (the screening id of §3 and §8: its Patient id;
    an objected child's random screening id), never that id itself; the log is ordered by it, so order
    says nothing either."""
    shown = [e._replace(patient=keyring.pseudonym(e.site, e.patient) if e.patient else "") for e in entries]
    return sorted(shown, key=lambda e: (e.site or "", e.patient))


def screening_log_rows(reader, uow: UnitOfWork, *, clock: Clock, site: str | None = None,
                       first_from: date | None = None, first_to: date | None = None) -> list[dict]:
    """The log of the reader's sites (an admin: all, or ``site``), one row per child first screened in
    the period; audited as a view."""
    with cycle_collection_paused():
        return [log_row(e) for e in _entries(reader, uow, clock, site, first_from, first_to, "view-screening-log")]


# Spreadsheets run a cell starting with one of these as a formula (contract §8).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_STARTS = "".join(_FORMULA_STARTS)
_FOREIGN = operator.itemgetter(*(COLUMNS.index(c) for c in ("patient", "site", "protocol_version")))
"""The log's columns whose text is not myocit's own: a sender's Patient id, a site's name, a protocol
version's name (its data files')."""


def spreadsheet_safe(cell) -> str:
    """The cell as text, prefixed with ``'`` when a spreadsheet would run it as a formula."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def screening_log_csv(reader, uow: UnitOfWork, *, clock: Clock, site: str | None = None,
                      first_from: date | None = None, first_to: date | None = None) -> str:
    """The log of ``screening_log_rows`` as CSV, written from the entries themselves (their first
    fields are the columns, in order); audited as a view."""
    width = len(COLUMNS)
    with cycle_collection_paused():
        entries = _entries(reader, uow, clock, site, first_from, first_to, "view-screening-log")
        return _csv([e[:width] for e in entries])


def _csv(cells: list) -> str:
    """CSV, header first, every cell a spreadsheet would run made safe (``spreadsheet_safe``). Only the
    columns whose text comes from outside myocit's own vocabulary can hold one (``_FOREIGN``); the rest
    are dates, statuses, outcomes and criterion ids myocit writes itself."""
    if any(c and c[0] in _STARTS for row in cells for c in _FOREIGN(row)):
        cells = [[spreadsheet_safe(c) for c in row] for row in cells]
    return _written(cells)


def _written(cells: list) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(cells)
    return out.getvalue()


def _erased_group(entry: views.LogEntry) -> views.LogGroup:
    return views.LogGroup(entry.status, entry.failing, entry.missing, entry.review, entry.outcome,
                          entry.confirmed_at is not None, 1)


def funnel_of(groups: list[views.LogGroup], *, site, first_from, first_to) -> dict:
    """The funnel of the log's children, given in groups alike (``views.log_groups``)."""
    counts = {status: 0 for status in STATUSES}
    per_criterion = {cid: {"id": cid, "fail": 0, "unknown": 0, "review": 0} for cid in ORDER}
    outcomes = {outcome: 0 for outcome in screening_log.OUTCOMES}
    confirmed = 0
    for group in groups:
        n = group.children
        counts[group.status] = counts.get(group.status, 0) + n
        for verdict, ids in (("fail", group.failing), ("unknown", group.missing), ("review", group.review)):
            for cid in ids.split(";") if ids else ():
                if cid in per_criterion:
                    per_criterion[cid][verdict] += n
        if group.outcome in outcomes:
            outcomes[group.outcome] += n
        confirmed += n if group.confirmed else 0
    return {
        "site": site, "from": _cell(first_from), "to": _cell(first_to),
        "screened": sum(counts[s] for s in STATUSES), **{s: counts[s] for s in STATUSES},
        "confirmed": confirmed, "approached": sum(outcomes[o] for o in APPROACHED),
        "declined": outcomes["declined"], "enrolled": outcomes["enrolled"],
        "criteria": list(per_criterion.values()),
    }


def funnel(reader, uow: UnitOfWork, *, clock: Clock, site: str | None = None, first_from: date | None = None,
           first_to: date | None = None) -> dict:
    """Contract §8's funnel over the same children as the log, counted in the database. ``site``: the one
    asked for, else the reader's only site (null for an admin, or a reader of several sites)."""
    if site is not None and not reader.sees_site(site):
        raise NotFound(f"site {site} is not one of yours")
    period = {"site": site, "first_from": first_from, "first_to": first_to}
    with uow:
        groups = views.log_groups(uow.session, reader, **period)
        groups += [_erased_group(e) for e in views.erased_entries(uow.session, reader, **period)]
        audit.record(uow.session, reader, "view-funnel", f"Site/{site or reader.site_label}", clock.now(),
                     role=reader.role)
        uow.commit()
    shown = site if site is not None else (next(iter(reader.sites)) if reader.role != "admin"
                                           and len(reader.sites) == 1 else None)
    return funnel_of(groups, site=shown, first_from=first_from, first_to=first_to)


def ehr_cards(reader, uow: UnitOfWork, *, site: str | None = None) -> dict:
    """The CDS Hooks cards shown in the EHR for children of the reader's sites (or ``site``), and what
    the clinicians did with them: ``shown``, ``accepted``, ``dismissed`` and ``reasons`` (the override
    reasons' words, with their counts, most frequent first)."""
    if site is not None and not reader.sees_site(site):
        raise NotFound(f"site {site} is not one of yours")
    with uow:
        counts = cds.card_counts(uow.session, None if reader.role == "admin" else reader.sites, site)
    words = dict(OVERRIDE_REASONS)
    reasons = sorted(((words.get(code, code), n) for code, n in counts["reasons"].items()), key=lambda r: (-r[1], r[0]))
    return counts | {"reasons": reasons}
