"""Customers collected through the creditor's own bank, and the runs that hand their debits over."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.debits.jobs import run_debits
from portal.debits.models import Debit, DebitSchedule


def bank_customer(
    create_customer: Callable[..., Any],
    create_invoice: Callable[..., Any],
    create_direct_debit: Callable[..., DebitSchedule],
    *,
    cents: int,
    iban: str = "NL91ABNA0417164300",
    periods: tuple[str, ...] = ("2027-01",),
    day: int = 4,
    **customer: Any,
) -> DebitSchedule:
    """A customer on the bank collector with a monthly invoice of exactly ``cents`` (VAT 0) for each period."""
    person = create_customer(**customer)
    schedule = create_direct_debit(
        person, day=day, amount_cents=cents, first_period=periods[0], collector="bank", iban=iban
    )
    for period in periods:
        year, month = (int(part) for part in period.split("-"))
        start = date(year, month, 1)
        euros, rest = divmod(cents, 100)
        create_invoice(
            person,
            lines=[("Voorschot energie", "1", "maand", f"{euros}.{rest:02d}", "0")],
            issue_date=date(year - 1, 12, 1) if month == 1 else date(year, month - 1, 1),
            due_date=start.replace(day=28),
            period_start=start,
            period_end=start.replace(day=28),
        )
    return schedule


def run_on(session: Session, day: date) -> None:
    """The daily run (pre-notify, hand over, settle) as it runs at 07:00 on ``day``."""
    with time_machine.travel(datetime.combine(day, time(6), tzinfo=UTC), tick=False):
        run_debits(session, today=day)


def debit_of(session: Session, schedule: DebitSchedule, period: str) -> Debit:
    return session.scalars(select(Debit).where(Debit.schedule_id == schedule.id, Debit.period == period)).one()
