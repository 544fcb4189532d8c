"""The direct-debit columns of the customers file: a customer's mandate and collection schedule.

Mandates are never edited (SEPA): a row is matched to a mandate by its reference (UMR). The same UMR with the
same details changes nothing, so a file imports twice to the same result; a new UMR for a customer stops the
old mandate and starts the new one; a new amount, day or last period on the same UMR changes the schedule for
the periods not yet pre-notified (those keep the date and amount the debtor was told).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from schwifty import BIC
from schwifty.exceptions import SchwiftyException
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.debits import events as debit_events
from portal.debits import rules
from portal.debits.errors import DebitProblem
from portal.debits.mandates import (
    compact_iban,
    create_mandate,
    create_schedule,
    first_collectable_period,
    last_covered_period,
)
from portal.debits.models import COLLECTORS, DebitSchedule, Mandate
from portal.debits.policy import DebitPolicy
from portal.debits.services import next_unnotified_period, stop_mandate
from portal.events import emit
from portal.imports.columns import ABSENT, Cells, Column, shown
from portal.imports.parsing import to_cents
from portal.imports.problems import Problems

COLUMNS = [
    Column("mandate_reference", max_length=35),
    Column("mandate_signed_on"),
    Column("iban", max_length=42),  # 34 characters, and the spaces people write between the groups
    Column("bic", max_length=11),
    Column("debtor_name", max_length=70),
    Column("debit_day"),
    Column("debit_amount"),
    Column("debit_from"),
    Column("debit_until"),
    Column("collector"),
]
NAMES = tuple(column.name for column in COLUMNS)
# Without a mandate reference none of these may be filled in; with one, these must be.
NEEDED = ("mandate_signed_on", "iban", "debit_day", "debit_amount")
# debit_amount is at most 99,999.99 a month: an advance, not a loan.
MAX_AMOUNT_DIGITS = 5


@dataclass(frozen=True)
class MandateRow:
    reference: str
    signed_on: date
    iban: str  # compact
    bic: str | None
    debtor_name: str | None  # None: the customer's name
    day: int
    amount_cents: int
    first_period: str | None  # None: the first period the notice period allows
    last_period: str | None
    last_period_given: bool  # the file has a debit_until column (empty means "no end")
    collector: str


def read_mandate(cells: Cells, first_row: dict[str, int]) -> MandateRow | None:
    """The row's mandate, or None (no mandate columns, or an empty reference); errors go to ``cells``.

    ``first_row`` remembers which row used each reference, so one UMR cannot serve two customers in a file.
    """
    if all(isinstance(cells.raw(name), type(ABSENT)) for name in NAMES):
        return None
    reference = cells.text("mandate_reference")
    if not isinstance(reference, str):
        for name in NAMES[1:]:
            if cells.raw(name):
                cells.error(name, "mandate_reference_missing")
                break
        return None
    if reference in first_row:
        cells.error(
            "mandate_reference", "duplicate_mandate_reference", value=shown(reference), other_row=first_row[reference]
        )
    else:
        first_row[reference] = cells.row
    for name in NEEDED:
        if not cells.raw(name):  # empty, or a column the file lacks
            cells.error(name, "required")
    signed_on = cells.date("mandate_signed_on")
    iban = _iban(cells)
    bic = _bic(cells)
    day = _day(cells)
    amount_cents = _amount(cells)
    first_period = _period(cells, "debit_from")
    last_period = _period(cells, "debit_until")
    if isinstance(first_period, str) and isinstance(last_period, str) and last_period < first_period:
        cells.error("debit_until", "debit_period_order")
    collector = cells.choice("collector", frozenset(COLLECTORS), "unknown_collector")
    debtor_name = cells.text("debtor_name")
    if cells.failed:
        return None
    assert isinstance(signed_on, date) and iban and day and amount_cents  # checked above: required and valid
    return MandateRow(
        reference=reference,
        signed_on=signed_on,
        iban=iban,
        bic=bic,
        debtor_name=debtor_name if isinstance(debtor_name, str) else None,
        day=day,
        amount_cents=amount_cents,
        first_period=first_period if isinstance(first_period, str) else None,
        last_period=last_period if isinstance(last_period, str) else None,
        last_period_given=not isinstance(cells.raw("debit_until"), type(ABSENT)),
        collector=collector if isinstance(collector, str) else "bank",
    )


def _iban(cells: Cells) -> str | None:
    value = cells.text("iban")
    if not isinstance(value, str):
        return None
    try:
        return compact_iban(value)
    except DebitProblem:
        cells.error("iban", "invalid_iban", value=shown(value))
        return None


def _bic(cells: Cells) -> str | None:
    value = cells.text("bic")
    if not isinstance(value, str):
        return None
    try:
        return str(BIC(value).compact)
    except SchwiftyException:
        cells.error("bic", "invalid_bic", value=shown(value))
        return None


def _day(cells: Cells) -> int | None:
    value = cells.text("debit_day")
    if not isinstance(value, str):
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 31:
        cells.error("debit_day", "debit_day_range", value=shown(value))
        return None
    return int(value)


def _amount(cells: Cells) -> int | None:
    value = cells.decimal("debit_amount", places=2, max_integer_digits=MAX_AMOUNT_DIGITS)
    if not isinstance(value, Decimal):
        return None
    cents = to_cents(value)
    if cents <= 0:
        cells.error("debit_amount", "debit_amount_positive")
        return None
    return cents


def _period(cells: Cells, name: str) -> str | None:
    value = cells.text(name)
    if not isinstance(value, str):
        return None
    try:
        rules.parse_period(value)
    except ValueError:
        cells.error(name, "not_a_period", value=shown(value))
        return None
    return value


@dataclass
class MandatePlan:
    """What a row does to its customer's direct debit; ``changes`` names the columns that change."""

    row: MandateRow
    action: str  # "unchanged", "create" (stopping the customer's other mandates) or "update"
    changes: list[str] = field(default_factory=list)
    schedule_id: int | None = None  # for "update": the schedule on the row's mandate
    first_period: str | None = None  # for "create": the new schedule's first period


@dataclass(frozen=True)
class KnownMandates:
    """The mandates a batch of rows names, with their running schedules: two queries per batch, not per row."""

    by_reference: dict[str, Mandate]
    running: dict[int, DebitSchedule]  # mandate id -> its running schedule

    @classmethod
    def load(cls, session: Session, references: list[str]) -> KnownMandates:
        if not references:
            return cls({}, {})
        mandates = session.scalars(
            select(Mandate).where(Mandate.reference.in_(references)).options(selectinload(Mandate.customer))
        ).all()
        schedules = session.scalars(
            select(DebitSchedule)
            .where(DebitSchedule.mandate_id.in_([mandate.id for mandate in mandates]), DebitSchedule.ended_at.is_(None))
            .options(selectinload(DebitSchedule.debits))
        ).all()
        return cls({mandate.reference: mandate for mandate in mandates}, {s.mandate_id: s for s in schedules})


def plan_mandate(
    session: Session,
    row_number: int,
    row: MandateRow,
    customer_id: int | None,
    *,
    known: KnownMandates,
    zone: str,
    policy: DebitPolicy,
    problems: Problems,
) -> MandatePlan | None:
    """Match ``row`` against the database; None (and a problem) when it cannot be imported. Reads only."""
    if row.day not in policy.allowed_days:
        problems.add(
            row_number, "debit_day", "debit_day_not_allowed", value=row.day, days=days_text(policy.allowed_days)
        )
        return None
    existing = known.by_reference.get(row.reference)
    if existing is not None and existing.customer_id != customer_id:
        problems.add(
            row_number,
            "mandate_reference",
            "mandate_reference_taken",
            value=row.reference,
            owner=existing.customer.external_ref,
        )
        return None
    if existing is not None:
        return _plan_existing(row_number, row, existing, known.running.get(existing.id), problems)
    today = clock.today(zone)
    if row.first_period is not None and row.first_period < rules.period_of(today):
        problems.add(row_number, "debit_from", "debit_from_past", value=row.first_period)
        return None
    # Never a period an earlier mandate of the customer collects, or still collects after being stopped.
    covered = last_covered_period(session, customer_id) if customer_id is not None else None
    not_before = max(row.first_period or "", rules.next_period(covered) if covered else "") or None
    if row.first_period is None:
        first_period = first_collectable_period(
            row.day, today=today, notice_days=policy.notice_days, not_before=not_before
        )
    else:
        first_period = max(row.first_period, not_before or "")
    if row.last_period is not None and row.last_period < first_period:
        problems.add(row_number, "debit_until", "debit_until_before_start", value=row.last_period, first=first_period)
        return None
    return MandatePlan(row, "create", ["mandate_reference"], first_period=first_period)


def _plan_existing(
    row_number: int, row: MandateRow, mandate: Mandate, schedule: DebitSchedule | None, problems: Problems
) -> MandatePlan | None:
    differs = [
        name
        for name, ours, theirs in (
            ("mandate_signed_on", mandate.signed_on, row.signed_on),
            ("iban", mandate.iban, row.iban),
            ("bic", mandate.bic, row.bic),
            ("debtor_name", mandate.debtor_name, row.debtor_name or mandate.debtor_name),
            ("collector", mandate.collector, row.collector),
        )
        if ours != theirs
    ]
    if differs:
        problems.add(row_number, differs[0], "mandate_differs", value=row.reference, columns=", ".join(differs))
        return None
    if mandate.status != "active":
        return MandatePlan(row, "unchanged")  # stopped in the portal: it stays stopped; a new UMR starts again
    if schedule is None:
        return MandatePlan(row, "unchanged")
    changes = []
    if schedule.day_of_month != row.day:
        changes.append("debit_day")
    if schedule.amount_cents != row.amount_cents:
        changes.append("debit_amount")
    if row.last_period_given and schedule.last_period != row.last_period:
        if row.last_period is not None and row.last_period < next_unnotified_period(schedule):
            problems.add(row_number, "debit_until", "debit_until_notified", value=row.last_period)
            return None
        changes.append("debit_until")
    return MandatePlan(row, "update" if changes else "unchanged", changes, schedule.id)


def write_mandate(session: Session, plan: MandatePlan, customer: Customer, *, actor: Actor) -> None:
    """Carry out ``plan`` (checked by ``plan_mandate``); the import's savepoint makes it all or nothing."""
    row = plan.row
    if plan.action == "update":
        schedule = session.get_one(DebitSchedule, plan.schedule_id)
        schedule.day_of_month = row.day
        schedule.amount_cents = row.amount_cents
        if row.last_period_given:
            schedule.last_period = row.last_period
        schedule.updated_at = clock.now()
        emit(
            session,
            debit_events.about_schedule(
                debit_events.SCHEDULE_SET,
                schedule,
                actor,
                day=row.day,
                amount_cents=row.amount_cents,
                currency=schedule.currency,
                first_period=next_unnotified_period(schedule),
            ),
        )
        return
    if plan.action != "create":
        return
    assert plan.first_period is not None
    today = clock.today_for(customer)
    stopping = session.scalars(select(Mandate).where(Mandate.customer_id == customer.id, Mandate.status == "active"))
    for old in stopping.all():
        stop_mandate(session, old, actor=actor, today=today)
    mandate = create_mandate(
        session,
        customer,
        reference=row.reference,
        signed_on=row.signed_on,
        debtor_name=row.debtor_name or customer.name,
        iban=row.iban,
        bic=row.bic,
        collector=row.collector,
        actor=actor,
    )
    create_schedule(
        session,
        mandate,
        day_of_month=row.day,
        amount_cents=row.amount_cents,
        first_period=plan.first_period,
        last_period=row.last_period,
        actor=actor,
    )


def days_text(days: Sequence[int]) -> str:
    """(1, 2, ..., 28) -> "1-28"; (1, 15, 25) -> "1, 15, 25": the allowed days as staff read them."""
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)) for run in runs)
