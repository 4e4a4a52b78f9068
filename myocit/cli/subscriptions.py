"""``myocit subscription``: where each site's alerts are delivered (email or signed webhook)."""

from __future__ import annotations

import typer

from myocit.cli.kit import COMMAND_LINE, fail, handled, with_runtime

subscription_app = typer.Typer(help="Where each site's alerts are delivered.", no_args_is_help=True)


@subscription_app.command("create")
def subscription_create(
    site: str = typer.Option(..., help="The site whose alerts are delivered."),
    email: str | None = typer.Option(None, help="Send each alert to this address."),
    webhook: str | None = typer.Option(None, help="POST each alert, signed, to this http(s) URL."),
    language: str | None = typer.Option(None, help="fr or en: the language of its emails and webhook text "
                                                   "(default MYOCIT_LANGUAGE)."),
) -> None:
    """Subscribe a site to its alerts; for a webhook, print the signing secret once."""
    if (email is None) == (webhook is None):
        fail("give exactly one of --email ADDRESS or --webhook URL")
    if language is not None and language not in ("fr", "en"):
        fail("--language is fr or en")
    _subscribe(site, email, webhook, language)


@with_runtime
def _subscribe(rt, site: str, email: str | None, webhook: str | None, language: str | None = None) -> None:
    from service import administration
    from service.commands import CreateSubscription

    made = handled(lambda: administration.create_subscription(
        CreateSubscription(site, "email" if email else "webhook", email or webhook, COMMAND_LINE,
                           language), rt.uow(),
        clock=rt.clock))
    typer.echo(f"subscription {made.subscription.pk}: {site} → {email or webhook}")
    if made.secret:
        typer.echo(f"signing secret (shown once; verify Myocit-Signature with it): {made.secret}")


@subscription_app.command("list")
@with_runtime
def subscription_list(rt) -> None:
    """List the subscriptions: id, site, channel, target, active (secrets are never shown again); a
    FHIR subscription (channel fhir, its sites or * for every site) with its FHIR status and last event
    number."""
    from service import administration

    for row in administration.list_subscriptions(rt.uow()):
        line = f"{row['id']}\t{row['site']}\t{row['channel']}\t{row['target']}\t"
        if row["channel"] == "fhir":
            line += f"{row['status']}\tlast event {row['last_event_number']}"
        else:
            line += "active" if row["active"] else "inactive"
        line += f"\t{row.get('language') or '-'}"
        typer.echo(line)


@subscription_app.command("deactivate")
@with_runtime
def subscription_deactivate(
    rt,
    subscription_id: int = typer.Argument(..., help="The id shown by `myocit subscription list`."),
) -> None:
    """Stop delivering alerts to a subscription (its past deliveries stay listed)."""
    from service import administration
    from service.commands import DeactivateSubscription

    row = handled(lambda: administration.deactivate_subscription(
        DeactivateSubscription(subscription_id, COMMAND_LINE), rt.uow(), clock=rt.clock))
    typer.echo(f"subscription {subscription_id} ({row.site} → {row.target}) deactivated")
