"""What the staff area reads about disputes: the queue, one dispute, a customer's, who can be assigned, and
the conversation as the debtor sees it.

Read-only: changes go through ``staff_services`` (and ``services`` for the debtor's side).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, selectinload

from portal import clock
from portal.customers.models import Customer
from portal.disputes.models import (
    OPEN_DISPUTE_STATES,
    Dispute,
    DisputeFile,
    DisputeInvoice,
    DisputeLine,
    DisputeMessage,
)
from portal.disputes.queries import conversation_for_debtor  # noqa: F401  # the debtor's page reads it there
from portal.disputes.rules import deadline_state, line_with_vat_cents
from portal.invoices.models import InvoiceLine
from portal.staff.models import StaffUser
from portal.staff.permissions import ROLE_PERMISSIONS, Permission

PAGE_SIZE = 50
CUSTOMER_LIMIT = 50  # far more than one customer ever has
CLOSED_STATES = ("resolved", "withdrawn")
ASSIGNED_CHOICES = ("everyone", "me", "unassigned")
KIND_CHOICES = ("consumer", "business")

# The deadline that counts now: the first response while nobody answered, else the resolution.
NEXT_DEADLINE = case(
    (Dispute.first_responded_at.is_(None), Dispute.first_response_due_on), else_=Dispute.resolution_due_on
)


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters as staff chose them (GET parameters, parsed by the view)."""

    closed: bool = False  # resolved and withdrawn ones instead of the open ones
    min_cents: int | None = None  # at least this much at stake
    kind: str | None = None  # "consumer" or "business"
    repeat_only: bool = False
    assigned: str = "everyone"  # "me", "unassigned" or "everyone"
    staff_id: int | None = None  # who "me" is


@dataclass(frozen=True)
class QueueRow:
    dispute: Dispute
    deadline: str  # "first_response" or "resolution"
    due_on: date
    state: str  # deadline_state(): "late", "due_soon", "on_time"


@dataclass(frozen=True)
class Queue:
    rows: list[QueueRow]
    page: int
    has_more: bool


def _next_deadline(dispute: Dispute) -> tuple[str, date]:
    if dispute.first_responded_at is None:
        return "first_response", dispute.first_response_due_on
    return "resolution", dispute.resolution_due_on


def queue_row(dispute: Dispute, now: datetime | None = None) -> QueueRow:
    deadline, due_on = _next_deadline(dispute)
    today = clock.today_for(dispute.customer, now)
    return QueueRow(dispute, deadline, due_on, deadline_state(due_on, today, country=dispute.customer.country))


def _filtered(query: Select[Any], filters: QueueFilters) -> Select[Any]:
    if filters.min_cents is not None:
        query = query.where(Dispute.held_cents >= filters.min_cents)
    if filters.kind in KIND_CHOICES:
        query = query.join(Customer, Customer.id == Dispute.customer_id).where(Customer.kind == filters.kind)
    if filters.repeat_only:
        query = query.where(Dispute.repeat_of_id.is_not(None))
    if filters.assigned == "me" and filters.staff_id is not None:
        query = query.where(Dispute.assigned_to_id == filters.staff_id)
    elif filters.assigned == "unassigned":
        query = query.where(Dispute.assigned_to_id.is_(None))
    return query


def list_queue(
    session: Session, filters: QueueFilters, *, page: int = 1, per_page: int = PAGE_SIZE, now: datetime | None = None
) -> Queue:
    """Open disputes by their next deadline (soonest, so the late ones, first); closed ones newest first."""
    page = max(1, page)
    query = _filtered(select(Dispute), filters).options(
        selectinload(Dispute.customer),
        selectinload(Dispute.assigned_to),
        selectinload(Dispute.invoices).selectinload(DisputeInvoice.invoice),
    )
    if filters.closed:
        query = query.where(Dispute.status.in_(CLOSED_STATES)).order_by(Dispute.resolved_at.desc(), Dispute.id.desc())
    else:
        query = query.where(Dispute.status.in_(OPEN_DISPUTE_STATES)).order_by(
            NEXT_DEADLINE, Dispute.created_at, Dispute.id
        )
    found = list(session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)))
    return Queue([queue_row(dispute, now) for dispute in found[:per_page]], page, len(found) > per_page)


def count_open(session: Session) -> int:
    return int(session.scalar(select(func.count(Dispute.id)).where(Dispute.status.in_(OPEN_DISPUTE_STATES))) or 0)


def get_dispute(session: Session, dispute_id: int) -> Dispute | None:
    """A dispute with all its page shows: customer, invoices and lines, the conversation and its files."""
    return session.scalar(
        select(Dispute)
        .where(Dispute.id == dispute_id)
        .options(
            selectinload(Dispute.customer),
            selectinload(Dispute.assigned_to),
            selectinload(Dispute.invoices).selectinload(DisputeInvoice.invoice),
            selectinload(Dispute.lines).selectinload(DisputeLine.line),
            selectinload(Dispute.messages).selectinload(DisputeMessage.files),
            selectinload(Dispute.messages).selectinload(DisputeMessage.staff),
        )
    )


def get_file(session: Session, dispute: Dispute, file_id: int) -> DisputeFile | None:
    """A file of this dispute; None for one of another dispute."""
    return session.scalar(select(DisputeFile).where(DisputeFile.id == file_id, DisputeFile.dispute_id == dispute.id))


@dataclass(frozen=True)
class HeldLine:
    line: InvoiceLine
    amount_cents: int  # with VAT, as the debtor pays it


@dataclass
class HeldInvoice:
    covered: DisputeInvoice
    lines: list[HeldLine] = field(default_factory=list)  # empty: the whole invoice


def held_invoices(dispute: Dispute) -> list[HeldInvoice]:
    """Each invoice of the dispute with the lines disputed on it (none when the whole invoice is)."""
    found = [HeldInvoice(covered) for covered in dispute.invoices]
    by_invoice = {held.covered.invoice_id: held for held in found}
    for disputed in dispute.lines:
        held = by_invoice.get(disputed.line.invoice_id)
        if held is not None and not held.covered.whole:
            held.lines.append(HeldLine(disputed.line, line_with_vat_cents(disputed.line)))
    return found


def customer_disputes(session: Session, customer: Customer) -> list[Dispute]:
    """The "Disputes" list of a staff customer page: newest first."""
    return list(
        session.scalars(
            select(Dispute)
            .where(Dispute.customer_id == customer.id)
            .options(selectinload(Dispute.invoices).selectinload(DisputeInvoice.invoice))
            .order_by(Dispute.created_at.desc(), Dispute.id.desc())
            .limit(CUSTOMER_LIMIT)
        )
    )


def assignable_staff(session: Session) -> list[StaffUser]:
    """Who a dispute can be given to: active staff whose role may handle disputes, by name."""
    roles = [role for role, allowed in ROLE_PERMISSIONS.items() if Permission.HANDLE_DISPUTES in allowed]
    return list(
        session.scalars(
            select(StaffUser)
            .where(StaffUser.active.is_(True), StaffUser.role.in_(roles))
            .order_by(StaffUser.name, StaffUser.id)
        )
    )
