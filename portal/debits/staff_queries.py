"""What the staff area reads about direct debit: a customer's mandate, schedule and debits, and the failed-debit queue.

Read-only: the staff views change nothing through this module (changes go through ``services``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, not_, or_, select
from sqlalchemy.orm import Session, selectinload

from portal import clock
from portal.customers.models import Customer
from portal.debits import rules, services
from portal.debits.models import DayChange, Debit, DebitSchedule, Mandate
from portal.debits.policy import DebitPolicy, debit_policy
from portal.invoices.models import Invoice

# The newest debits shown on the customer's page; two years of monthly debits and their retries.
HISTORY_LIMIT = 24
QUEUE_PAGE_SIZE = 50


@dataclass(frozen=True)
class DebitPanel:
    """The "Direct debit" section of a staff customer page."""

    mandates: list[Mandate]  # newest first; the first is the one in use
    schedule: DebitSchedule | None  # the running schedule on an active mandate
    upcoming: list[rules.PlannedDebit]
    history: list[Debit]  # newest period first
    changes: list[DayChange]  # changes of day in the past twelve months, newest first
    policy: DebitPolicy
    today: date

    @property
    def changes_left(self) -> int:
        return max(self.policy.changes_per_year - len(self.changes), 0)


def debit_panel(session: Session, customer: Customer) -> DebitPanel:
    today = clock.today_for(customer)
    policy = debit_policy(session)
    mandates = list(
        session.scalars(
            select(Mandate).where(Mandate.customer_id == customer.id).order_by(Mandate.created_at.desc(), Mandate.id)
        )
    )
    schedule = services.active_schedule(session, customer.id)
    history = list(
        session.scalars(
            select(Debit)
            .where(Debit.customer_id == customer.id)
            .options(selectinload(Debit.invoice))
            .order_by(Debit.period.desc(), Debit.id.desc())
            .limit(HISTORY_LIMIT)
        )
    )
    changes: list[DayChange] = []
    upcoming: list[rules.PlannedDebit] = []
    if schedule is not None:
        upcoming = services.upcoming_debits(session, schedule, today=today, policy=policy)
        since = clock.now() - rules.CHANGE_WINDOW
        changes = list(
            session.scalars(
                select(DayChange)
                .where(DayChange.schedule_id == schedule.id, DayChange.changed_at > since)
                .order_by(DayChange.changed_at.desc(), DayChange.id.desc())
            )
        )
    return DebitPanel(mandates, schedule, upcoming, history, changes, policy, today)


def _still_open() -> ColumnElement[bool]:
    """A failed debit nobody has dealt with yet: still failed, and its invoice (if known) not paid another way."""
    return and_(Debit.state == "failed", or_(Debit.invoice_id.is_(None), Invoice.state != "paid"))


@dataclass(frozen=True)
class FailedPage:
    debits: list[Debit]
    page: int
    has_more: bool


def failed_debits(session: Session, *, handled: bool, page: int = 1, per_page: int = QUEUE_PAGE_SIZE) -> FailedPage:
    """Debits that failed at some point, newest failure first: the open ones, or those since handled (retried,
    collected after all, or their invoice paid another way)."""
    page = max(1, page)
    condition = not_(_still_open()) if handled else _still_open()
    found = list(
        session.scalars(
            select(Debit)
            .outerjoin(Invoice, Invoice.id == Debit.invoice_id)
            .where(Debit.failed_at.is_not(None), condition)
            .options(selectinload(Debit.customer), selectinload(Debit.invoice))
            .order_by(Debit.failed_at.desc(), Debit.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return FailedPage(found[:per_page], page, len(found) > per_page)
