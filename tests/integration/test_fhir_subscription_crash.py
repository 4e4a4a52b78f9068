"""FHIR subscriptions against the real PostgreSQL and Redis, with real API, worker and scheduler
processes (contract §16): the worker is killed (SIGKILL) while an event is being sent, then started
again; the receiver still sees the handshake, then every event from 1 to n, in order, each at least
once."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import select

from domain import research
from store.models import Delivery
from store.tokens import create_token
from tests.fhir_hook import event_part, parameter, running_hook, valid
from tests.fhir_samples import attestations_part, bundle, lab_part, eligible_record
from tests.integration.conftest import wait_until

DAY = date(2026, 12, 1)
CHILDREN = 6
HELD = 3


def _headers(rt) -> dict[str, dict]:
    with rt.uow() as uow:
        made = {role: create_token(uow.session, role, ["site-a"], role, rt.clock.now())
                for role in ("lab", "coordinator", "investigator")}
        uow.commit()
    return {role: {"Authorization": f"Bearer {token}"} for role, token in made.items()}


def _post_candidate(client, api, headers, pid) -> None:
    record = eligible_record(pid, DAY)
    assert client.post(f"{api}/fhir", json=bundle(lab_part(record)), headers=headers["lab"]).status_code == 202
    assert client.post(f"{api}/fhir", json=bundle(attestations_part(record)),
                       headers=headers["investigator"]).status_code == 202


def _first_seen_in_order(numbers: list[int]) -> list[int]:
    """The event numbers in the order each was first received (a repeat is at least once, not a gap)."""
    seen: list[int] = []
    for number in numbers:
        if number not in seen:
            seen.append(number)
    return seen


def test_events_stay_gapless_and_ordered_across_a_sigkill_of_the_worker(rt, api, processes, tmp_path):
    headers = _headers(rt)
    processes.start("scheduler", "--loglevel=WARNING", log=tmp_path / "scheduler.log")
    worker = processes.start("worker", "--concurrency=1", log=tmp_path / "worker.log")
    with running_hook() as hook, httpx.Client(timeout=30) as client:
        hook.hold_event = HELD
        channel = {"type": "rest-hook", "endpoint": hook.url, "payload": "application/fhir+json",
                   "_payload": {"extension": [{"url": research.PAYLOAD_CONTENT, "valueCode": "full-resource"}]}}
        made = client.post(f"{api}/fhir/Subscription", headers=headers["coordinator"], json={
            "resourceType": "Subscription", "status": "requested", "reason": "CTMS", "criteria": research.TOPIC_URL,
            "channel": channel})
        assert made.status_code == 201, made.text
        sid = made.json()["id"]
        wait_until(lambda: hook.of_type("handshake"), timeout=60, what="the handshake")
        for n in range(1, CHILDREN + 1):
            _post_candidate(client, api, headers, f"p-{n}")
        # The worker is killed while it sends event 3 (the receiver holds that request open).
        assert hook.holding.wait(90), "event 3 was never sent"
        processes.kill(worker)
        hook.release.set()
        processes.start("worker", "--concurrency=1", log=tmp_path / "worker-2.log")
        wait_until(lambda: len(set(hook.numbers())) == CHILDREN, timeout=90, what="every event")
        numbers = hook.numbers()
        assert _first_seen_in_order(numbers) == list(range(1, CHILDREN + 1)), numbers
        assert numbers.count(HELD) >= 2  # at least once: event 3, received before the kill, is sent again
        events = [n for n in hook.of_type("event-notification")]
        for notification in events:
            valid(notification)
            assert notification["entry"][1]["resource"]["status"] == "candidate"
        assert parameter(hook.received[0], "type") == "handshake"
        status = client.get(f"{api}/fhir/Subscription/{sid}/$status", headers=headers["coordinator"]).json()
        assert status["entry"][0]["resource"]["parameter"][4]["valueString"] == str(CHILDREN)
        replay = client.get(f"{api}/fhir/Subscription/{sid}/$events?eventsSinceNumber=1",
                            headers=headers["coordinator"]).json()
        assert [int(event_part(replay, "event-number", i)) for i in range(CHILDREN)] == list(range(1, CHILDREN + 1))
    with rt.uow() as uow:
        statuses = uow.session.scalars(select(Delivery.status)).all()
    assert statuses == ["sent"] * CHILDREN
