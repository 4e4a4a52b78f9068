"""``myocit demo``: sample children of two sites loaded through the service's own intake."""

from __future__ import annotations

import typer

from myocit.cli.kit import COMMAND_LINE, fail, with_runtime


@with_runtime
def demo(rt) -> None:
    """Load sample children of two sites (necker, robert-debre) through the service's own intake, with
    tokens of the right roles, screen them, and print the tokens to sign in with. Refused (exit 1) when
    the demo is already loaded."""
    from myocit.demo import SITES, AlreadyLoaded, load_demo

    typer.echo(f"myocit demo: data in {rt.settings.home if rt.settings.embedded else 'the configured database'}")
    try:
        loaded = load_demo(rt, actor=COMMAND_LINE, say=lambda line: typer.echo(f"myocit demo: {line}"))
    except AlreadyLoaded as exc:
        fail(f"the demo is already loaded here ({exc}); its tokens were printed when it ran. "
             "`myocit token list` shows them; `myocit token create --role coordinator --site necker` makes "
             "another", code=1)
    pages = f"{rt.settings.base_url.rstrip('/')}/ui"
    typer.echo(f"\nSign in at {pages} (start the service with `make run` if it is not running); each token "
               "sees its own site only:")
    for site in SITES:
        for role in ("coordinator", "investigator", "lab"):
            typer.echo(f"  {role:<12} {site:<13} {loaded.tokens[(role, site)]}")
    typer.echo(f"  {'admin':<12} {'every site':<13} {loaded.tokens[('admin', None)]}")
    typer.echo("Lab tokens post (POST /fhir, /hl7v2) and cannot sign in; the admin's reads /ui/audit and /ui/protocols.")
