"""``flask --app portal plans preview``: the schedule and the policy's verdict, as the debtor's page shows them."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import click
from flask.cli import AppGroup

from portal import clock
from portal.errors import DomainError, message_for
from portal.extensions import db
from portal.i18n import force_locale
from portal.money import AmountProblem, parse_amount
from portal.plans import rules
from portal.plans.policy import plan_policy
from portal.plans.services import MAX_INSTALMENTS

plans_cli = AppGroup("plans", help="Payment plans: preview a schedule under the policy in force; run the plans job.")
BUSINESS_ZONE = clock.BUSINESS_ZONE


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(2)


def _in_english(problem: DomainError) -> str:
    with force_locale("en"):
        return message_for(problem)


@plans_cli.command("preview")
@click.option("--total", "total_text", required=True, help="The amount the plan covers, e.g. 1234.56.")
@click.option("--instalments", type=int, required=True, help="How many instalments.")
@click.option("--every", type=click.Choice(rules.FREQUENCIES), required=True, help="How often one is due.")
@click.option("--first", "first_text", required=True, help="The date of the first instalment, YYYY-MM-DD.")
@click.option("--kind", type=click.Choice(rules.KINDS), default="consumer", show_default=True)
@click.option("--today", "today_text", help="Judge as if today were YYYY-MM-DD (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def preview(
    total_text: str,
    instalments: int,
    every: str,
    first_text: str,
    kind: str,
    today_text: str | None,
    as_json: bool,
) -> None:
    """The instalments of a plan for --total, and whether the policy in force approves it at once."""
    try:
        total = parse_amount(total_text)
    except AmountProblem as problem:
        _fail(f"--total: {_in_english(problem)}")
    try:
        first = date.fromisoformat(first_text)
    except ValueError:
        _fail(f"--first must be a date such as 2027-01-31, not {first_text!r}.")
    try:
        today = date.fromisoformat(today_text) if today_text else clock.today(BUSINESS_ZONE)
    except ValueError:
        _fail(f"--today must be a date such as 2027-01-31, not {today_text!r}.")
    if not 1 <= instalments <= MAX_INSTALMENTS:
        _fail(f"--instalments must be from 1 to {MAX_INSTALMENTS}.")
    if first > today + timedelta(days=rules.LATEST_FIRST_DAYS):
        _fail(f"--first can be at most {rules.LATEST_FIRST_DAYS} days after today.")
    if total < instalments:
        _fail("--total is too small for that many instalments (each needs at least 0.01).")
    policy = plan_policy(db.session).for_kind(kind)
    # A first date in the past is a verdict here ("first_in_past"), not an error: the command answers what
    # the policy says about any schedule, as staff preview one.
    proposal = rules.propose(policy, total, instalments, every, first, today)
    if as_json:
        click.echo(json.dumps(proposal.as_json()))
        return
    verdict = "inside the policy: approved at once" if proposal.within_policy else f"for staff ({proposal.reason})"
    click.echo(f"{kind} plan of {rules.decimal_text(total)} in {instalments} instalments: {verdict}")
    for item in proposal.instalments:
        click.echo(f"  {item.due_on.isoformat()}  {rules.decimal_text(item.amount_cents):>12}")


@plans_cli.command("run")
@click.option("--at", "at_text", help="Run as at YYYY-MM-DD or YYYY-MM-DDTHH:MM (Dutch time); default now.")
def run(at_text: str | None) -> None:
    """Move every open plan and promise on: instalments paid, reminders, missed and lapsed instalments, direct
    debits of instalments, promises kept or broken. Running it twice does nothing twice."""
    from portal.plans.jobs import run_plans

    now = clock.now()
    if at_text:
        try:
            at = datetime.fromisoformat(at_text)
        except ValueError:
            _fail(f"--at must be a date or a moment such as 2027-01-04T06:00, not {at_text!r}.")
        now = (at if at.tzinfo else at.replace(tzinfo=ZoneInfo(BUSINESS_ZONE))).astimezone(UTC)
    report = run_plans(db.session, now)
    click.echo(f"Plans run at {now.isoformat(timespec='minutes')}:")
    for name, ids in report.as_json().items():
        click.echo(f"  {name.replace('_', ' ')}: {len(ids)}")
    if report.errors or report.promise_errors:
        failed = ", ".join(map(str, [*report.errors, *report.promise_errors]))
        click.echo(f"Plans or promises that could not be moved on (see the log): {failed}", err=True)
