"""The raw-storage limit's app: the least an HTTP intake of lab results can do on this machine.

    uvicorn bench.raw_storage:app --workers N     (BENCH_RAW_DSN: a psycopg conninfo)

One route, whatever the method and path: a POST's body is parsed as JSON (no FHIR validation, no
identity rules, no message kept) and one row per Observation is written with COPY into
``bench_raw_facts``, a table made like ``facts`` (``create_table``), one transaction per request, then
``202``. The rows carry what the real intake writes per result (``store/intake.py``): the message,
the patient link, how the message named it, kind, source, revision, effective date and the JSON
payload in ``store/codec.py``'s shape. bench/pipeline.py posts the intake ceiling's very bundles here;
the ratio of the two rates is what myocit's own work (validation, mapping, identity, the message row,
the pending mark, the audit, the framework) leaves of the bare cost of receiving and storing.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os

import psycopg

TABLE = "bench_raw_facts"
COLUMNS = ("message_pk", "patient_pk", "subject_key", "scope", "kind", "source", "revision", "effective",
           "payload")
COPY = f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN"
REVISION_STRIDE = 1 << 24  # as store/intake.py: the message's number times this, plus the entry's place
CONNECTIONS = 4  # per process: more than the requests one process has in flight with the benchmark's clients


def create_table(conninfo: str) -> None:
    """The scratch table: the columns, defaults, identity and indexes of ``facts``, without its foreign
    keys (``LIKE`` copies none), emptied if it was there already."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (LIKE facts INCLUDING ALL)")
        conn.execute(f"TRUNCATE {TABLE}")


def count(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]


# A message number unique across the app's processes (no round trip for a sequence), and a patient
# number per subject named: the real intake's lookups are the work this app leaves out.
_messages = itertools.count((os.getpid() & 0x3FFFFF) << 16)
_patients: dict[str, int] = {}


def fact_rows(document: dict, message_pk: int) -> list[tuple]:
    """One row per Observation of a Bundle, in ``COLUMNS`` order."""
    rows = []
    for index, entry in enumerate(document.get("entry") or ()):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") != "Observation":
            continue
        subject = (resource.get("subject") or {}).get("reference", "")
        key = f"id:{subject.removeprefix('Patient/')}"
        patient_pk = _patients.setdefault(key, len(_patients) + 1)
        source = f"Observation/{resource.get('id')}"
        revision = message_pk * REVISION_STRIDE + index
        on = (resource.get("effectiveDateTime") or "")[:10]
        value = resource.get("valueQuantity") or {}
        codings = (resource.get("code") or {}).get("coding", ())
        payload = {"source": source, "on": on, "codes": [[c.get("system"), c.get("code")] for c in codings],
                   "status": resource.get("status"),
                   "quantity": {"value": value.get("value"), "unit": value.get("unit"),
                                "comparator": value.get("comparator")} if value else None,
                   "qualitative": None, "text": None, "specimen": None, "sample": None,
                   "revision": revision, "seq": ""}
        rows.append((message_pk, patient_pk, key, None, "LabResult", source, revision, on,
                     json.dumps(payload)))
    return rows


class Store:
    """A few connections of this process, each lent to one request at a time."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.free: asyncio.Queue | None = None

    async def write(self, rows: list[tuple]) -> None:
        if self.free is None:
            self.free = asyncio.Queue()
            for _ in range(CONNECTIONS):
                self.free.put_nowait(await psycopg.AsyncConnection.connect(self.conninfo))
        conn = await self.free.get()
        try:
            async with conn.transaction(), conn.cursor() as cursor, cursor.copy(COPY) as copy:
                for row in rows:
                    await copy.write_row(row)
        finally:
            self.free.put_nowait(conn)

    async def close(self) -> None:
        while self.free is not None and not self.free.empty():
            await self.free.get_nowait().close()


_store = Store(os.environ.get("BENCH_RAW_DSN", "host=127.0.0.1 user=postgres dbname=postgres"))


async def app(scope, receive, send) -> None:
    """The raw ASGI callable: POST stores and answers 202; anything else answers 200 (a readiness probe)."""
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await _store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    status, answer = 200, b"{}"
    if scope["method"] == "POST":
        chunks, more = [], True
        while more:
            event = await receive()
            chunks.append(event.get("body", b""))
            more = event.get("more_body", False)
        rows = fact_rows(json.loads(b"".join(chunks)), next(_messages))
        await _store.write(rows)
        status, answer = 202, b'{"stored": %d}' % len(rows)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": answer})
