"""`flask --app portal jobs run-due`: scheduled work for those who use cron instead of Celery beat."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from portal.notifications.dispatch import run_due
from portal.payments.jobs import reconcile_payments

jobs_cli = AppGroup("jobs", help="Background work.")


@jobs_cli.command("run-due")
def jobs_run_due() -> None:
    """Deliver every message that is due, and check quiet unfinished payments with their provider."""
    attempted = run_due(current_app._get_current_object())  # type: ignore[attr-defined]
    if current_app.config.get("SMTP_URL"):
        click.echo(f"Messages attempted: {attempted}.")
    else:
        click.echo("No PORTAL_SMTP_URL: messages are kept in the outbox for the staff area.")
    checked = reconcile_payments(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"Unfinished payments checked with their provider: {checked}.")
