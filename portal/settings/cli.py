"""``flask --app portal settings show|set``: configure a deployment from a shell.

Values go through the same registry validators as the staff area, and each change is audited (system/cli).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import click
from flask.cli import AppGroup

from portal.audit.services import Actor
from portal.extensions import db
from portal.i18n import force_locale
from portal.settings import registry, services

CLI_ACTOR = Actor(type="system", id="cli")

settings_cli = AppGroup("settings", help="Creditor details and policies (versioned, audited).")


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


@settings_cli.command("show")
def settings_show() -> None:
    """Print every setting with the value in force now, and since when (or that it is the default)."""
    values = services.current_settings(db.session)
    latest = services.versions_in_force(db.session)
    for key, value in values.items():
        found = latest.get(key)
        since = f"since {found.valid_from:%Y-%m-%d %H:%M} UTC by {found.changed_by}" if found else "default"
        click.echo(f"{key} = {_shown(value)}  ({since})")


@settings_cli.command("set")
@click.argument("key")
@click.argument("value")
@click.option("--note", default=None, help="Why it changed; kept with the version.")
def settings_set(key: str, value: str, note: str | None) -> None:
    """Set KEY to VALUE. Structured settings take JSON, e.g. payments.partial_payment_minimum '{"EUR": "5.00"}'."""
    setting = registry.SETTINGS.get(key)
    if setting is None:
        raise click.ClickException(f"Unknown setting {key!r}. `flask --app portal settings show` lists them all.")
    raw: Any = value
    if setting.structured:
        try:
            # Amounts stay exact: no float ever holds money.
            raw = json.loads(value, parse_float=Decimal, parse_int=Decimal)
        except ValueError:
            raise click.ClickException(f"{key} takes a JSON value, such as {setting.example}.") from None
    try:
        changed = services.set_settings(db.session, {key: raw}, actor=CLI_ACTOR, note=note)
    except services.InvalidSettings as invalid:
        with force_locale("en"):
            message = " ".join(problem.message for problem in invalid.problems.values())
        raise click.ClickException(f"{key}: {message}") from None
    db.session.commit()
    click.echo(f"{key} = {_shown(services.get_setting(db.session, key))}" if changed else f"{key} is unchanged.")
