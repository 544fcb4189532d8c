"""What of a debtor's open invoices is taken care of already, so the overview and the pay page do not ask for it.

Owed is not the same as "to pay now": a direct debit will collect some invoices, a payment plan or a promise to
pay says when others are paid, and a dispute holds a part. The overview says so beside the total and asks only
for the rest (its "Pay now", the bank transfer and its QR code); the pay page does not tick those invoices by
default. A debit does not collect an invoice a dispute holds part of (the dispute's collection hold): its rest
is the debtor's to pay, so it is not counted as collected.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from portal.accounts.presence import features_present
from portal.debits.overview import PRESENCE as DIRECT_DEBIT
from portal.debits.overview import collection_dates, schedule_with_debits
from portal.invoices.models import Invoice
from portal.plans.models import PaymentPlan, PaymentPromise
from portal.plans.overview import PRESENCE as PLANS
from portal.plans.overview import PlansView, plans_view

DEBIT = "debit"  # a notified or handed-over debit collects it
PLAN = "plan"  # in a running (agreed) payment plan
PROPOSED = "proposed"  # in a plan asked for or offered, not agreed yet
PROMISE = "promise"  # in an open promise to pay


@dataclass(frozen=True)
class Arrangements:
    """Which open invoices are taken care of, and how (by invoice number)."""

    collects: Mapping[str, date] = field(default_factory=dict)  # -> the date a debit collects it
    plans: PlansView | None = None  # the customer's plans and promises, None where nothing was open to read them for
    disputed: Collection[str] = frozenset()  # a dispute holds part of it: no debit collects it

    @property
    def in_plan(self) -> Mapping[str, PaymentPlan]:
        return self.plans.in_plan if self.plans is not None else {}

    @property
    def promised(self) -> Mapping[str, PaymentPromise]:
        return self.plans.promised if self.plans is not None else {}

    def kind_of(self, number: str) -> str | None:
        """How the invoice is taken care of (DEBIT, PLAN, PROPOSED, PROMISE), or None: the debtor pays it."""
        if number in self.collects and number not in self.disputed:
            return DEBIT
        plan = self.in_plan.get(number)
        if plan is not None:
            return PLAN if plan.status == "active" else PROPOSED
        if number in self.promised:
            return PROMISE
        return None

    def collected_on(self, number: str) -> date | None:
        return self.collects.get(number) if self.kind_of(number) == DEBIT else None

    def promised_by(self, number: str) -> date | None:
        promise = self.promised.get(number)
        return promise.promised_on if promise is not None and self.kind_of(number) == PROMISE else None


@dataclass
class ToPayNow:
    """One currency of the overview's total: what of it is held, collected, planned or promised, and the rest."""

    currency: str
    held: int = 0
    collected: int = 0
    planned: int = 0
    proposed: int = 0
    promised: int = 0
    now: int = 0
    numbers_now: list[str] = field(default_factory=list)  # the invoices the rest is on, for the transfer
    numbers_promised: list[str] = field(default_factory=list)  # the debtor pays these too, by the promised date
    collection_days: set[date] = field(default_factory=set)
    promise_days: set[date] = field(default_factory=set)

    @property
    def arranged(self) -> int:
        return self.collected + self.planned + self.proposed + self.promised

    @property
    def collection_day(self) -> date | None:
        """The one date the debits collect on, or None when they collect on several (each invoice says when)."""
        return next(iter(self.collection_days)) if len(self.collection_days) == 1 else None

    @property
    def promise_day(self) -> date | None:
        return next(iter(self.promise_days)) if len(self.promise_days) == 1 else None


def to_pay_now(
    open_invoices: Iterable[Invoice], held: Mapping[str, int], arrangements: Arrangements
) -> dict[str, ToPayNow]:
    """{currency: what of the open invoices is taken care of, and what is left to pay now}; ``held``: the cents
    a dispute holds, by invoice number."""
    found: dict[str, ToPayNow] = {}
    for invoice in open_invoices:
        if invoice.outstanding_cents <= 0:
            continue
        summary = found.setdefault(invoice.currency, ToPayNow(invoice.currency))
        on_hold = min(held.get(invoice.number, 0), invoice.outstanding_cents)
        summary.held += on_hold
        rest = invoice.outstanding_cents - on_hold
        if rest <= 0:
            continue
        kind = arrangements.kind_of(invoice.number)
        if kind == DEBIT:
            summary.collected += rest
            summary.collection_days.add(arrangements.collects[invoice.number])
        elif kind == PLAN:
            summary.planned += rest
        elif kind == PROPOSED:
            summary.proposed += rest
        elif kind == PROMISE:
            summary.promised += rest
            summary.numbers_promised.append(invoice.number)
            summary.promise_days.add(arrangements.promised[invoice.number].promised_on)
        else:
            summary.now += rest
            summary.numbers_now.append(invoice.number)
    return found


def arrangements_from(
    collects: Mapping[str, date], plans: PlansView, disputed: Collection[str] = frozenset()
) -> Arrangements:
    """For a page that has read the debits and plans already (the overview)."""
    return Arrangements(collects=collects, plans=plans, disputed=disputed)


def arrangements_for(
    session: Session,
    customer_id: int,
    open_invoices: Collection[Invoice],
    *,
    today: date,
    now: datetime,
    disputed: Collection[str] = frozenset(),
) -> Arrangements:
    """Read what takes care of ``open_invoices``: one statement for most debtors, who have no debit, plan or
    promise (``features_present``), and the debit schedule and the plans only for those who have them."""
    if not open_invoices:
        return Arrangements()
    present = features_present(session, customer_id, now=now)
    schedule = schedule_with_debits(session, customer_id, has_any=present.get(DIRECT_DEBIT))
    plans = plans_view(session, customer_id, today=today, has_any=present.get(PLANS))
    return arrangements_from(collection_dates(schedule, list(open_invoices)), plans, disputed)
