"""``myocit screen``: one record evaluated offline, without the service or its database."""

from __future__ import annotations

import json
from datetime import date
from enum import Enum
from pathlib import Path

import typer

from myocit.cli.kit import fail, settings


class Format(str, Enum):
    json = "json"
    text = "text"


def _parse_day(text: str | None) -> date:
    if text is None:
        from config.clock import Clock

        # The service's one clock: the sites' time zone, or MYOCIT_TODAY for a rehearsal.
        return Clock(settings()).today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of: {text!r} is not a date (YYYY-MM-DD)")
        raise  # unreachable


def screen(
    file: Path = typer.Argument(..., help="A FHIR R4 Bundle (collection, batch or transaction) with one patient's record."),
    as_of: str | None = typer.Option(None, "--as-of", help="Evaluation date YYYY-MM-DD (planned inclusion/first dose). Default: today."),
    fmt: Format = typer.Option(Format.json, "--format", help="json (contract §3) or text (for a coordinator)."),
    protocol_version: str | None = typer.Option(None, "--protocol", help="Protocol version folder under config/protocols."),
) -> None:
    """Evaluate one patient's record against every MYOCIT criterion, without any server.

    Exit 0 when it evaluated; 2 when the input cannot be read, with one line naming what is wrong.
    """
    from config.protocol_files import DEFAULT_VERSION, ProtocolError, load_protocol
    from domain import PatientRecord, evaluate
    from ingest.errors import InvalidInput
    from ingest.fhir import parse_json, read_bundle, screening_input
    from myocit.report import render_text

    day = _parse_day(as_of)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        fail(f"{file}: cannot read ({exc.strerror or exc})")
    try:
        protocol = load_protocol(protocol_version or DEFAULT_VERSION)
    except ProtocolError as exc:
        fail(str(exc))
    try:
        bundle = read_bundle(parse_json(raw))
        patient, profile, facts = screening_input(bundle, protocol=protocol)
    except InvalidInput as exc:
        fail(f"{file}: {exc}")
    record = PatientRecord.build(patient, profile, facts, protocol)
    result = evaluate(record, protocol, day)
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        typer.echo(render_text(result))
