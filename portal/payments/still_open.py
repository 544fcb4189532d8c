"""What the thank-you page says is still open after a payment, and what happens next with it.

Nobody should wonder whether they are done. What is owed is split as the overview splits it
(``debtor.arranged``): what a direct debit will collect, what a payment plan or a promise to pay takes care of
(each named, with its next date), what a dispute holds, and the rest the debtor pays. Only invoices past their
due date are called late: the rest of one that is not due yet is due by its own date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from portal import clock
from portal.accounts.held import held_cents, payable_cents
from portal.debtor.arranged import DEBIT, PLAN, PROPOSED, arrangements_for
from portal.invoices.models import Invoice
from portal.payments import queries
from portal.payments.models import Payment
from portal.plans.models import PaymentPlan, PaymentPromise
from portal.plans.overview import PlanCard, PlansView, plan_card


@dataclass(frozen=True)
class Arranged:
    """Part of what is still open that a payment plan or a promise takes care of: the debtor pays it as agreed."""

    cents: int
    plan: PlanCard | None = None  # a plan; its progress (the next instalment) only once it runs
    promise: PaymentPromise | None = None


@dataclass(frozen=True)
class StillOpen:
    """What is still open on the customer's account after a payment, in its currency."""

    cents: int  # to pay: no debit, plan or promise takes care of it, and no dispute holds it
    held_cents: int  # on hold (a dispute)
    currency: str
    count: int  # how many invoices ``cents`` is on
    on_these: bool  # some of it is on this payment's own invoices (a part-payment), not only on others
    others: int  # how many other invoices may be paid now
    overdue_cents: int = 0  # of ``cents``, what is on invoices past their due date
    overdue_count: int = 0
    due_date: date | None = None  # the earliest due date of the rest that is not due yet
    collected_cents: int = 0  # owed, but a direct debit will collect it: nothing to do
    arranged: tuple[Arranged, ...] = ()  # owed, but in a payment plan or promise: paid as agreed
    plans: PlansView | None = None  # the customer's plans and promises as read (the page's more-time links)


def owed_after(session: Session, payment: Payment) -> list[Invoice]:
    """The customer's invoices still owed after ``payment``, in every currency: none, and everything is paid."""
    return [
        invoice
        for invoice in queries.list_payable_invoices(session, payment.customer_id)
        if invoice.outstanding_cents > 0
    ]


def what_is_still_open(session: Session, payment: Payment, owed: list[Invoice], *, today: date) -> StillOpen | None:
    """Of ``owed`` (``owed_after``), what is open in the payment's currency and how each part gets paid; None
    when nothing is. ``today``: the customer's local date."""
    invoices = [invoice for invoice in owed if invoice.currency == payment.currency]
    if not invoices:
        return None
    held = held_cents(session, [invoice.id for invoice in invoices])
    payable = {invoice.id: payable_cents(invoice, held) for invoice in invoices}
    # A dispute's hold keeps a debit from collecting its invoice: the rest is the debtor's to pay (as on the overview).
    disputed = {invoice.number for invoice in invoices if held.get(invoice.id, 0) > 0}
    arrangements = arrangements_for(
        session, payment.customer_id, invoices, today=today, now=clock.now(), disputed=disputed
    )
    to_pay: list[Invoice] = []
    collected = 0
    parts: dict[tuple[str, int], int] = {}  # ("plan" or "promise", its id) -> the cents it takes care of
    plans: dict[int, PaymentPlan] = {}
    promises: dict[int, PaymentPromise] = {}
    for invoice in invoices:
        cents = payable[invoice.id]
        if cents <= 0:
            continue
        kind = arrangements.kind_of(invoice.number)
        if kind is None:
            to_pay.append(invoice)
        elif kind == DEBIT:
            collected += cents
        elif kind in (PLAN, PROPOSED):
            plan = arrangements.in_plan[invoice.number]
            plans[plan.id] = plan
            parts[("plan", plan.id)] = parts.get(("plan", plan.id), 0) + cents
        else:
            promise = arrangements.promised[invoice.number]
            promises[promise.id] = promise
            parts[("promise", promise.id)] = parts.get(("promise", promise.id), 0) + cents
    arranged = tuple(
        Arranged(cents, plan=plan_card(session, plans[key], today))
        if kind == "plan"
        else Arranged(cents, promise=promises[key])
        for (kind, key), cents in parts.items()
    )
    late = [invoice for invoice in to_pay if invoice.due_date < today]
    paid_here = {item.invoice_id for item in payment.items}
    return StillOpen(
        cents=sum(payable[invoice.id] for invoice in to_pay),
        held_cents=sum(invoice.outstanding_cents - payable[invoice.id] for invoice in invoices),
        currency=payment.currency,
        count=len(to_pay),
        on_these=any(invoice.id in paid_here for invoice in to_pay),
        others=sum(1 for invoice in to_pay if invoice.id not in paid_here),
        overdue_cents=sum(payable[invoice.id] for invoice in late),
        overdue_count=len(late),
        due_date=min((invoice.due_date for invoice in to_pay if invoice.due_date >= today), default=None),
        collected_cents=collected,
        arranged=arranged,
        plans=arrangements.plans,
    )
