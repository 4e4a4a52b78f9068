"""The HTTP layer over an embedded SQLite store, in process; tasks run as plain functions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from store.migrate import upgrade
from store.tokens import create_token
from web.app import create_app
from workers.runtime import Runtime, install


class Calls:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list, dict]] = []

    def send_task(self, name, args=None, kwargs=None, **_):
        self.sent.append((name, list(args or []), dict(kwargs or {})))


@pytest.fixture()
def rt(tmp_path):
    settings = Settings(home=tmp_path, today="2026-12-01")
    runtime = Runtime(settings)
    runtime.__dict__["celery"] = Calls()
    upgrade(settings.resolved_database_url())
    install(runtime)
    yield runtime
    runtime.dispose()


@pytest.fixture()
def client(rt):
    with TestClient(create_app(rt), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture()
def tokens(rt):
    made = {}
    with rt.uow() as uow:
        for role, site in [("lab", None), ("coordinator", "site-a"), ("coordinator", "site-b"),
                           ("investigator", "site-a"), ("admin", None)]:
            key = role if site in (None, "site-a") else f"{role}-{site}"
            made[key] = create_token(uow.session, role, site, key, rt.clock.now())
        uow.commit()
    return {k: {"Authorization": f"Bearer {v}"} for k, v in made.items()}


def run_pending(rt) -> None:
    """Run what the API enqueued, as a worker would (tasks are plain functions)."""
    from workers import tasks

    while rt.celery.sent:
        name, args, kwargs = rt.celery.sent.pop(0)
        if name == "myocit.evaluate_patient":
            tasks.evaluate_patient.run(*args, **kwargs)
        elif name == "myocit.deliver_alert":
            tasks.deliver_alert.run(*args, **kwargs)
