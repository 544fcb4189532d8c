"""Flask commands: ``flask --app portal <group> <command>``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.errors import message_for
from portal.extensions import db
from portal.links.models import PortalLink
from portal.links.services import create_link, revoke_link
from portal.staff.errors import StaffError
from portal.staff.models import ROLES
from portal.staff.services import create_staff

CLI_ACTOR = Actor(type="system", id="cli")

db_cli = AppGroup("db", help="Database schema.")
links_cli = AppGroup("links", help="Personal links.")
demo_cli = AppGroup("demo", help="Demo data for trying the portal.")
staff_cli = AppGroup("staff", help="Staff accounts.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply all Alembic migrations to PORTAL_DATABASE_URL."""
    from portal.migrate import upgrade_to_head

    upgrade_to_head(current_app.config["DATABASE_URL"])
    click.echo("Database is up to date.")


@links_cli.command("create")
@click.argument("customer_ref")
@click.option("--days", type=int, default=None, help="Days until the link expires (default PORTAL_LINK_TTL_DAYS).")
def links_create(customer_ref: str, days: int | None) -> None:
    """Print a new personal link for the customer with this external reference."""
    customer = _customer_by_ref(customer_ref)
    if days is not None and days < 1:
        raise click.BadParameter("must be at least 1", param_hint="--days")
    issued = create_link(
        db.session, customer, ttl_days=days or current_app.config["LINK_TTL_DAYS"], created_by="cli", actor=CLI_ACTOR
    )
    db.session.commit()
    click.echo(issued.url(current_app.config["BASE_URL"]))


@links_cli.command("revoke")
@click.argument("customer_ref")
def links_revoke(customer_ref: str) -> None:
    """Revoke every link of the customer with this external reference (for a forwarded or leaked link)."""
    customer = _customer_by_ref(customer_ref)
    links = db.session.scalars(
        select(PortalLink).where(PortalLink.customer_id == customer.id, PortalLink.revoked_at.is_(None))
    ).all()
    # Counted from what revoke_link did, not from what was loaded: a link revoked by someone else in between
    # (a colleague in the staff area) is not this command's doing.
    revoked = sum(revoke_link(db.session, link, actor=CLI_ACTOR) for link in links)
    db.session.commit()
    click.echo(f"Revoked {revoked} link(s) of {customer.external_ref}.")


def _customer_by_ref(customer_ref: str) -> Customer:
    customer = db.session.scalars(select(Customer).where(Customer.external_ref == customer_ref)).one_or_none()
    if customer is None:
        raise click.ClickException(f"No customer with reference {customer_ref!r}.")
    return customer


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo customers and a year of invoices, once."""
    from portal.demo import load_demo_data
    from portal.staff.demo import load_demo_staff

    loaded = load_demo_data(db.session, today=clock.today(current_app.config["DEFAULT_TIMEZONE"]))
    loaded = load_demo_staff(db.session) or loaded
    db.session.commit()
    click.echo("Demo data loaded." if loaded else "Demo data already present; nothing loaded.")


@demo_cli.command("links")
def demo_links() -> None:
    """Print a fresh personal link for every customer, one per line with the customer's name."""
    base_url = current_app.config["BASE_URL"]
    lines = []
    for customer in db.session.scalars(select(Customer).order_by(Customer.external_ref)):
        issued = create_link(
            db.session, customer, ttl_days=current_app.config["LINK_TTL_DAYS"], created_by="demo", actor=CLI_ACTOR
        )
        lines.append(f"{issued.url(base_url)}  {customer.name} ({customer.external_ref}, {customer.language})")
    db.session.commit()
    click.echo("\n".join(lines))


@demo_cli.command("staff")
def demo_staff() -> None:
    """Print how to log in to the staff area with the demo accounts."""
    from portal.staff.demo import DEMO_PASSWORD, demo_email

    base_url = current_app.config["BASE_URL"]
    click.echo(f"Staff area: {base_url}/staff/  (set up the second factor at the first log-in)")
    click.echo(f"  log in as {demo_email('admin')} with password {DEMO_PASSWORD}")
    click.echo(
        f"  other roles: {demo_email('supervisor')}, {demo_email('agent')}, {demo_email('viewer')} (same password)"
    )


@staff_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@click.option("--name", default="", help="Shown in the staff area and the audit trail (default: the e-mail).")
def staff_create(email: str, role: str, name: str) -> None:
    """Create a staff account; the password is asked on the terminal or read from standard input."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        staff = create_staff(db.session, email=email, name=name, role=role, password=password, actor=CLI_ACTOR)
    except StaffError as error:
        raise click.ClickException(message_for(error)) from error
    db.session.commit()
    click.echo(f"Created {staff.email} ({staff.role}). The second factor is set up at the first log-in.")


@staff_cli.command("new-totp-key")
def staff_new_totp_key() -> None:
    """Print a new key for PORTAL_TOTP_KEYS (put it first to rotate, then run rotate-totp-key)."""
    from portal.staff.totp_keys import new_key

    click.echo(new_key())


@staff_cli.command("rotate-totp-key")
def staff_rotate_totp_key() -> None:
    """Encrypt every staff TOTP secret with the first key of PORTAL_TOTP_KEYS."""
    from portal.staff.services import rotate_totp_secrets
    from portal.staff.totp_keys import current_keyring

    rotated, unreadable = rotate_totp_secrets(db.session, current_keyring())
    db.session.commit()
    click.echo(f"Encrypted {rotated} second-factor secret(s) with the first key of PORTAL_TOTP_KEYS.")
    if unreadable:
        raise click.ClickException(
            "These accounts' secrets open with none of the keys in PORTAL_TOTP_KEYS and were left as they are: "
            + ", ".join(staff.email for staff in unreadable)
            + ". Add the key they were encrypted with to PORTAL_TOTP_KEYS and run this again, "
            "or reset their second factor under Team."
        )


def register_commands(app: Flask) -> None:
    from portal.debits.cli import debits_cli
    from portal.imports.cli import import_cli
    from portal.notifications.cli import jobs_cli
    from portal.plans.cli import plans_cli
    from portal.settings.cli import settings_cli

    for group in (db_cli, links_cli, demo_cli, staff_cli, jobs_cli, import_cli, settings_cli, debits_cli, plans_cli):
        app.cli.add_command(group)
