"""The service in process over an embedded SQLite store: tasks are collected, then run as plain
functions, as a worker would run them."""

from __future__ import annotations

import shutil
from pathlib import Path

from config.settings import Settings
from store.migrate import upgrade
from store.tokens import create_token
from bootstrap import Runtime, install
from testkit.celery_calls import Calls
from testkit.schema import migrated_sqlite

ROLES = [("lab", "site-a"), ("lab", "site-b"), ("coordinator", "site-a"), ("coordinator", "site-b"),
         ("investigator", "site-a"), ("investigator", "site-b"), ("admin", None)]
"""Token holders of the tests; keyed by role, or ``role-site`` for another site than site-a."""


def run_pending(rt) -> None:
    """Run what was enqueued, in order, until nothing is left."""
    from workers import tasks

    while rt.celery.sent:
        name, args, kwargs = rt.celery.sent.pop(0)
        if name == "myocit.evaluate_patient":
            tasks.evaluate_patient.run(*args, **kwargs)
        elif name == "myocit.evaluate_patients":
            tasks.evaluate_patients.run(*args, **kwargs)
        elif name == "myocit.deliver_alert":
            tasks.deliver_alert.run(*args, **kwargs)
        elif name == "myocit.fhir_notify":
            tasks.fhir_notify.run(*args, **kwargs)
        elif name == "myocit.shadow_chunk":
            tasks.shadow_chunk.run(*args, **kwargs)


def evaluations_sent(rt, *, with_kwargs: bool = False) -> list:
    """The patients sent for evaluation, in order, one entry a patient, whether alone or in a batch;
    with ``with_kwargs``, (pk, kwargs) pairs."""
    out = []
    for name, args, kwargs in rt.celery.sent:
        if name == "myocit.evaluate_patient":
            pks = [args[0]]
        elif name == "myocit.evaluate_patients":
            pks = list(args[0])
        else:
            continue
        out.extend((pk, kwargs) if with_kwargs else pk for pk in pks)
    return out


def make_runtime(home, clock=None, **settings) -> Runtime:
    # Sent at once, not gathered for a few milliseconds: what a test posts is sent when its request ends.
    settings.setdefault("dispatch_window_ms", 0)
    # Each task screens its own children: what the tests count. Draining is tested on its own.
    settings.setdefault("drain_backlog", False)
    runtime = Runtime(Settings(home=home, today="2026-12-01", **settings), clock=clock, celery=Calls())
    # A new embedded database is a copy of one migrated once per run (testkit.schema); any other is migrated.
    if runtime.settings.database_url or not migrated_sqlite(runtime.settings.home / "myocit.sqlite"):
        upgrade(runtime.settings.resolved_database_url())
    install(runtime)
    return runtime


def copied_runtime(template: Path, home: Path, **settings) -> Runtime:
    """A runtime over a copy of the embedded database of ``template`` (a home folder whose runtime was
    disposed): a state built once per module, each test starting from its own copy."""
    for part in template.glob("myocit.sqlite*"):  # the database, with its write-ahead log
        shutil.copyfile(part, home / part.name)
    return make_runtime(home, **settings)


def key_of(role: str, site: str | None = "site-a") -> str:
    """The key of a test token holder in ``make_tokens``: ``role`` for site-a, ``role-site`` otherwise."""
    return role if site in (None, "site-a") else f"{role}-{site}"


def make_tokens(rt, roles=ROLES) -> dict[str, str]:
    made = {}
    with rt.uow() as uow:
        for role, site in roles:
            key = key_of(role, site)
            made[key] = create_token(uow.session, role, [site] if site else [], key, rt.clock.now())
        uow.commit()
    return made


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def post_record(client, tokens: dict, resources: list[dict], *, kind: str = "transaction",
                site: str | None = None):
    """Post a record in process as its senders do: the lab and the investigator of the child's site
    (``site``, else the record Patient's, else site-a) each post their part (``fhir_samples.post_parts``).
    ``tokens``: headers or bare tokens, keyed as ``make_tokens`` keys them. Returns the lab's response."""
    from tests.fhir_samples import post_parts, site_of

    site = site or site_of(resources)

    def headers(role: str) -> dict:
        held = tokens[key_of(role, site)]
        return bearer(held) if isinstance(held, str) else held

    return post_parts(client, headers("lab"), headers("investigator"), resources, kind=kind)
