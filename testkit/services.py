"""Real PostgreSQL and Redis for the pipeline tests: a fresh database per test session and a Redis
database number of our own, so runs never collide. When the services are missing, the tests skip on
a developer machine and fail in CI (``MYOCIT_REQUIRE_SERVICES=1``)."""

from __future__ import annotations

import os
import uuid
from typing import NoReturn

import pytest

PG_ADMIN_DSN = os.environ.get("MYOCIT_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
PG_URL_TEMPLATE = os.environ.get("MYOCIT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/{db}")
REDIS_HOST = os.environ.get("MYOCIT_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("MYOCIT_TEST_REDIS_PORT", "6379"))


def required() -> bool:
    return os.environ.get("MYOCIT_REQUIRE_SERVICES") == "1"


def skip_or_fail(message: str) -> NoReturn:
    """A real part the tests need is missing: skip on a developer machine, fail in CI."""
    if required():
        pytest.fail(message + " and MYOCIT_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def unavailable(what: str, exc: Exception) -> NoReturn:
    """A service (PostgreSQL, Redis) does not answer."""
    skip_or_fail(f"{what} is not reachable ({type(exc).__name__}: {exc})")


def cannot_run(part: str, why: str) -> NoReturn:
    """A real part the tests drive (the OpenID provider, the CDS Hooks client) cannot be started."""
    skip_or_fail(f"{part} cannot run: {why}")


def create_database() -> tuple[str, str]:
    import psycopg

    name = f"myocit_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        unavailable("PostgreSQL", exc)
    return name, PG_URL_TEMPLATE.format(db=name)


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_database() -> tuple[int, str]:
    """A Redis database number nobody else is using now (claimed with a key that expires)."""
    import redis

    try:
        # The claims live in database 0, apart from the databases claimed: a test or benchmark that
        # flushes its own database (to lose queued tasks on purpose) must not free it for another run.
        claims = redis.Redis(REDIS_HOST, REDIS_PORT, db=0, socket_timeout=3)
        for number in range(15, 0, -1):
            if claims.set(_claim_key(number), os.getpid(), nx=True, ex=3600):
                redis.Redis(REDIS_HOST, REDIS_PORT, db=number, socket_timeout=3).flushdb()
                return number, f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}"
    except redis.ConnectionError as exc:
        unavailable("Redis", exc)
    pytest.fail("no free Redis database number (1-15) for this test session", pytrace=False)
    raise AssertionError


def _claim_key(number: int) -> str:
    return f"myocit:test:claimed:{number}"


def release_redis(number: int) -> None:
    import redis

    redis.Redis(REDIS_HOST, REDIS_PORT, db=number).flushdb()
    redis.Redis(REDIS_HOST, REDIS_PORT, db=0).delete(_claim_key(number))
