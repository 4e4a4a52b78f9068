"""The ``myocit`` command: offline screening, the service's processes, and administration.

One module per command group; ``kit`` holds what they share, above all ``with_runtime``, through which
every command that works on the service's data gets its schema brought up to date and the runtime.
The commands are registered here, in the order ``myocit --help`` lists them."""

from __future__ import annotations

import sys

import typer

from myocit.cli.access import access_app
from myocit.cli.demo import demo
from myocit.cli.ehr import ehr_app
from myocit.cli.imports import import_
from myocit.cli.messages import messages_app
from myocit.cli.operations import screening_log_command, status
from myocit.cli.patients import patient_app
from myocit.cli.processes import api, migrate, mllp, run, scheduler, worker
from myocit.cli.protocol import protocol_app
from myocit.cli.screening import screen
from myocit.cli.senders import sender_app
from myocit.cli.sites import site_app
from myocit.cli.subscriptions import subscription_app
from myocit.cli.tokens import token_app
from myocit.cli.data_protection import audit_app, purge, tombstones_app

app = typer.Typer(
    help="MYOCIT eligibility screening: screen a FHIR record offline, or run the screening service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Markdown joins a docstring's wrapped lines, so a command's summary reads as one sentence.
    rich_markup_mode="markdown",
)

for command in (screen, migrate, api, worker, scheduler, mllp, run, status):
    app.command()(command)
app.command("screening-log")(screening_log_command)
app.command()(demo)
app.command("import")(import_)
app.command()(purge)
for group, name in ((token_app, "token"), (sender_app, "sender"), (site_app, "site"), (messages_app, "messages"),
                    (patient_app, "patient"), (subscription_app, "subscription"), (protocol_app, "protocol"),
                    (access_app, "access"), (ehr_app, "ehr"), (audit_app, "audit"), (tombstones_app, "tombstones")):
    app.add_typer(group, name=name)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
