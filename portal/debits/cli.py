"""``flask --app portal debits preview``, ``collect``, ``pain008`` and ``returns``: the same rules, runs and files as
the pages and jobs."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.debits import rules
from portal.debits.bank import build_pain008, record_download
from portal.debits.collection import outcomes_between
from portal.debits.errors import BankFileProblem
from portal.debits.jobs import BUSINESS_ZONE, run_debits
from portal.debits.policy import debit_policy
from portal.debits.returns import import_returns
from portal.debits.services import PRENOTIFY_AHEAD_DAYS, active_schedule, changes_in_window, preview_day_change
from portal.errors import DomainError, message_for
from portal.extensions import db
from portal.i18n import force_locale
from portal.money import AmountProblem, parse_amount

# "collected" in the report is what was handed over: paid at once, or pending (in the bank's file, at a provider).
REPORT_LINES = {"collected": "handed to the collector (paid at once, or pending at the bank or provider)"}

debits_cli = AppGroup(
    "debits",
    help="Direct debit: preview a change of collection day, collect what is due, the bank's files in and out.",
)
CLI_ACTOR = Actor(type="system", id="cli")


def _in_english(problem: DomainError) -> str:
    """Commands speak English, as the other commands do (the operator's shell, not a debtor's page)."""
    with force_locale("en"):
        return message_for(problem)


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(2)


@debits_cli.command("preview")
@click.argument("customer_ref", required=False)
@click.option("--current-day", type=int, help="Preview for a debtor collected on this day (instead of a customer).")
@click.option("--day", "new_day", type=int, required=True, help="The new collection day.")
@click.option("--today", "today_text", help="Preview as if today were YYYY-MM-DD (default: today).")
@click.option("--amount", "amount_text", help="The amount per debit with --current-day, e.g. 84.70.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def preview(
    customer_ref: str | None,
    current_day: int | None,
    new_day: int,
    today_text: str | None,
    amount_text: str | None,
    as_json: bool,
) -> None:
    """What moving the collection day to --day would do: the next three debits before and after."""
    if (customer_ref is None) == (current_day is None):
        _fail("Give either a CUSTOMER_REF or --current-day, not both.")
    try:
        today = date.fromisoformat(today_text) if today_text else clock.today(BUSINESS_ZONE)
    except ValueError:
        _fail(f"--today must be a date such as 2027-01-31, not {today_text!r}.")
    policy = debit_policy(db.session)
    if customer_ref is not None:
        customer = db.session.scalars(select(Customer).where(Customer.external_ref == customer_ref)).first()
        if customer is None:
            _fail(f"No customer with reference {customer_ref!r}.")
        schedule = active_schedule(db.session, customer.id)  # type: ignore[union-attr]
        if schedule is None:
            _fail(f"Customer {customer_ref} has no direct debit.")
        result = preview_day_change(db.session, schedule, new_day, today=today, policy=policy)  # type: ignore[arg-type]
        changes = changes_in_window(db.session, schedule)  # type: ignore[arg-type]
    else:
        try:
            cents = parse_amount(amount_text or "0.01", "EUR")
        except AmountProblem as problem:
            _fail(f"--amount: {problem.code}")
        announced, next_unnotified = rules.as_if_running(
            day_of_month=int(current_day or 1),
            amount_cents=cents,
            today=today,
            notice_days=policy.notice_days,
            announce_ahead_days=PRENOTIFY_AHEAD_DAYS,
        )
        result = rules.preview(
            current_day=int(current_day or 1),
            new_day=new_day,
            amount_cents=cents,
            today=today,
            notice_days=policy.notice_days,
            next_unnotified=next_unnotified,
            notified=announced,
            allowed_days=policy.allowed_days,
            changes_in_window=0,
            changes_per_year=policy.changes_per_year,
        )
        changes = 0
    if as_json:
        click.echo(json.dumps(result.as_json()))
        return
    click.echo("allowed" if result.allowed else f"not allowed: {result.reason}")
    click.echo(f"changes in the last twelve months: {changes} of {policy.changes_per_year}")
    for before, after in zip(result.before, result.after, strict=True):
        amount = rules.decimal_text(after.amount_cents)
        click.echo(f"{before.period}  {before.date.isoformat()} -> {after.date.isoformat()}  {amount}")


@debits_cli.command("collect")
@click.option("--at", "at_text", help="Collect as at this moment (YYYY-MM-DD or YYYY-MM-DDTHH:MM); default now.")
def collect(at_text: str | None) -> None:
    """Pre-notify what comes within reach and collect what is due. Running it twice collects nothing twice."""
    if at_text:
        try:
            at = datetime.fromisoformat(at_text)
        except ValueError:
            _fail(f"--at must be a date or a moment such as 2027-01-04T06:00, not {at_text!r}.")
        zone = ZoneInfo(BUSINESS_ZONE)
        today = (at if at.tzinfo else at.replace(tzinfo=zone)).astimezone(zone).date()
    else:
        today = clock.today(BUSINESS_ZONE)
    notified, report = run_debits(db.session, today=today)
    click.echo(f"Collection run for {today.isoformat()}:")
    click.echo(f"  pre-notified: {notified}")
    for name, ids in report.as_json().items():
        click.echo(f"  {REPORT_LINES.get(name, name.replace('_', ' '))}: {len(ids)}")
    # The scheduler may have run before this command did (it runs hourly in every web process): say what the
    # day's runs did together, so "collected: 0" is not read as nothing having happened.
    zone = ZoneInfo(BUSINESS_ZONE)
    start = datetime.combine(today, time(0), tzinfo=zone)
    day = outcomes_between(db.session, start, start + timedelta(days=1))
    click.echo(f"Today so far, all runs together: {day['collected']} collected, {day['failed']} failed.")


@debits_cli.command("pain008")
@click.argument("collection_date")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
def pain008(collection_date: str, output: Path | None) -> None:
    """The pain.008 file of COLLECTION_DATE (YYYY-MM-DD) for the bank, to standard output or -o FILE."""
    try:
        day = date.fromisoformat(collection_date)
    except ValueError:
        _fail(f"COLLECTION_DATE must be a date such as 2027-01-04, not {collection_date!r}.")
    try:
        file = build_pain008(db.session, day)
    except BankFileProblem as problem:
        _fail(_in_english(problem))
    record_download(db.session, file, downloaded_by="cli")
    db.session.commit()
    if output is None:
        click.echo(file.content, nl=False)
        return
    output.write_bytes(file.content)
    total = rules.decimal_text(file.total_cents)
    click.echo(f"{output}: {len(file.end_to_end_ids)} debits, EUR {total}, collection date {day.isoformat()}", err=True)


@debits_cli.command("returns")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def returns(file: Path) -> None:
    """Read the bank's returns FILE (camt.054, pain.002 or CSV) and apply each return not applied before."""
    try:
        report = import_returns(db.session, file.read_bytes(), file_name=file.name, actor=CLI_ACTOR)
    except BankFileProblem as problem:
        db.session.rollback()
        _fail(_in_english(problem))
    db.session.commit()
    click.echo(f"Returns file {file.name} ({report.kind}):")
    click.echo(f"  failed before collection: {len(report.failed)}")
    click.echo(f"  taken back after collection: {len(report.reversed)}")
    click.echo(f"  applied before: {len(report.already)}")
    click.echo(f"  not found: {len(report.unknown)}")
    for unknown in report.unknown:
        click.echo(f"    {unknown.end_to_end_id} ({unknown.reason_code}, line {unknown.line})")
