"""What the staff area reads about plans, promises and requests to be called back.

Read-only: the staff views change nothing through this module (changes go through ``services``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from portal.customers.models import Customer
from portal.plans.models import CallbackRequest, PaymentPlan, PaymentPromise, PlanInvoice, PromiseInvoice

PAGE_SIZE = 50
# The plans and promises shown on a customer's page: far more than one customer ever has.
CUSTOMER_LIMIT = 50
# The list filters: a name staff pick, and the statuses it shows.
PLAN_FILTERS: dict[str, tuple[str, ...]] = {
    "active": ("active",),
    "countered": ("countered",),
    "completed": ("completed",),
    "lapsed": ("lapsed",),
    "ended": ("rejected", "declined", "cancelled"),
}
PROMISE_FILTERS: dict[str, tuple[str, ...]] = {
    "open": ("open",),
    "kept": ("kept",),
    "broken": ("broken",),
    "cancelled": ("cancelled",),
}
CALLBACK_FILTERS = ("open", "handled")

Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    rows: list[Row]
    page: int
    has_more: bool


def _page(session: Session, query: Select[Any], page: int, per_page: int) -> Page[Any]:
    page = max(1, page)
    found = list(session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)))
    return Page(found[:per_page], page, len(found) > per_page)


def waiting_proposals(session: Session, *, page: int = 1, per_page: int = PAGE_SIZE) -> Page[PaymentPlan]:
    """Proposals waiting for staff, oldest first: the queue."""
    query = (
        select(PaymentPlan)
        .where(PaymentPlan.status == "proposed")
        .options(selectinload(PaymentPlan.customer))
        .order_by(PaymentPlan.created_at, PaymentPlan.id)
    )
    return _page(session, query, page, per_page)


def count_waiting(session: Session) -> int:
    return int(session.scalar(select(func.count(PaymentPlan.id)).where(PaymentPlan.status == "proposed")) or 0)


def list_plans(
    session: Session, statuses: Sequence[str], *, kind: str | None = None, page: int = 1, per_page: int = PAGE_SIZE
) -> Page[PaymentPlan]:
    """Plans in ``statuses``, newest change first; only of customers of ``kind`` when given."""
    query = select(PaymentPlan).where(PaymentPlan.status.in_(statuses))
    if kind:
        query = query.where(PaymentPlan.customer_kind == kind)
    query = query.options(selectinload(PaymentPlan.customer), selectinload(PaymentPlan.instalments)).order_by(
        PaymentPlan.updated_at.desc(), PaymentPlan.id.desc()
    )
    return _page(session, query, page, per_page)


def list_promises(
    session: Session, statuses: Sequence[str], *, page: int = 1, per_page: int = PAGE_SIZE
) -> Page[PaymentPromise]:
    """Promises in ``statuses``: open ones by the date promised (soonest first), ended ones newest first."""
    order = (
        (PaymentPromise.promised_on, PaymentPromise.id)
        if tuple(statuses) == ("open",)
        else (PaymentPromise.ended_at.desc(), PaymentPromise.id.desc())
    )
    query = (
        select(PaymentPromise)
        .where(PaymentPromise.status.in_(statuses))
        .options(
            selectinload(PaymentPromise.customer),
            selectinload(PaymentPromise.invoices).selectinload(PromiseInvoice.invoice),
        )
        .order_by(*order)
    )
    return _page(session, query, page, per_page)


def list_callbacks(
    session: Session, *, handled: bool, page: int = 1, per_page: int = PAGE_SIZE
) -> Page[CallbackRequest]:
    """Requests to be called back: open ones oldest first (who waited longest), handled ones newest first."""
    query = select(CallbackRequest).options(selectinload(CallbackRequest.customer))
    if handled:
        query = query.where(CallbackRequest.handled_at.is_not(None)).order_by(
            CallbackRequest.handled_at.desc(), CallbackRequest.id.desc()
        )
    else:
        query = query.where(CallbackRequest.handled_at.is_(None)).order_by(
            CallbackRequest.created_at, CallbackRequest.id
        )
    return _page(session, query, page, per_page)


def get_plan(session: Session, plan_id: int) -> PaymentPlan | None:
    """A plan with all its detail page shows: customer, covered invoices, instalments, consent."""
    return session.scalar(
        select(PaymentPlan)
        .where(PaymentPlan.id == plan_id)
        .options(
            selectinload(PaymentPlan.customer),
            selectinload(PaymentPlan.invoices).selectinload(PlanInvoice.invoice),
            selectinload(PaymentPlan.instalments),
            selectinload(PaymentPlan.consents),
        )
    )


@dataclass(frozen=True)
class CustomerPlans:
    """The "Payment plans" section of a staff customer page."""

    plans: list[PaymentPlan]  # newest first
    promises: list[PaymentPromise]  # newest first


def customer_plans(session: Session, customer: Customer) -> CustomerPlans:
    plans = session.scalars(
        select(PaymentPlan)
        .where(PaymentPlan.customer_id == customer.id)
        .order_by(PaymentPlan.created_at.desc(), PaymentPlan.id.desc())
        .limit(CUSTOMER_LIMIT)
    )
    promises = session.scalars(
        select(PaymentPromise)
        .where(PaymentPromise.customer_id == customer.id)
        .options(selectinload(PaymentPromise.invoices).selectinload(PromiseInvoice.invoice))
        .order_by(PaymentPromise.created_at.desc(), PaymentPromise.id.desc())
        .limit(CUSTOMER_LIMIT)
    )
    return CustomerPlans(list(plans), list(promises))
