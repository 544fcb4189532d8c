"""What the debtor's overview and invoice page show of plans and promises: one statement that finds there is
none (most debtors), else three: the customer's open plans (with their invoices and instalments), their open
promises (with their invoices), and whether any invoice is left that can still have more time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, joinedload

from portal.accounts.presence import register_presence_check
from portal.db import in_fixed
from portal.plans.instalments import debit_still_expected, money_on_its_way
from portal.plans.models import OPEN_PLAN_STATES, PaymentPlan, PaymentPromise, PlanInvoice, PromiseInvoice
from portal.plans.policy import plan_policy
from portal.plans.progress import PlanProgress, progress_of
from portal.plans.services import has_eligible_invoice


@dataclass(frozen=True)
class PlanCard:
    plan: PaymentPlan
    progress: PlanProgress | None  # only for a running plan: a proposal has no instalments yet
    # What is due is taken care of: a payment for it is on its way (accepted, not settled yet), or its direct
    # debit will still collect it. Nothing to pay now, however much is due.
    pending: bool = False
    by_debit: bool = False

    @property
    def collecting(self) -> bool:
        return self.pending or self.by_debit

    @property
    def payable_now(self) -> bool:
        """Something is due and nothing takes care of it: a Pay button, also on a direct-debit plan whose debit
        failed or cannot be collected (its instalments are then paid in the portal like any other)."""
        return bool(self.progress and self.progress.due_now and not self.collecting)


@dataclass(frozen=True)
class PlansView:
    plans: list[PlanCard] = field(default_factory=list)  # newest first
    in_plan: dict[str, PaymentPlan] = field(default_factory=dict)  # invoice number -> its open plan
    promised: dict[str, PaymentPromise] = field(default_factory=dict)  # invoice number -> its open promise
    # Whether some invoice can still be put in a plan or promise (the pages' more_time_links): without a plan or a
    # promise, every invoice can.
    more_time_offered: bool = True

    @property
    def covered(self) -> set[str]:
        """The invoice numbers in a plan or a promise: not "late" for the debtor, we agreed on when."""
        return set(self.in_plan) | set(self.promised)


def plans_view(session: Session, customer_id: int, *, today: date, has_any: bool | None = None) -> PlansView:
    """``has_any``: the answer of ``features_present`` for PRESENCE, when the page asked it already.

    Also answers whether more time can still be asked (``more_time_offered``): with a plan or a promise, whether
    any invoice is left that can have one (one statement more); without, every invoice can. A view hands it to
    its templates with ``template_helpers.note_more_time`` before its commit."""
    # Most debtors never had a plan or a promise: one cheap statement tells, and spares them the two loads.
    if has_any is None:
        has_any = bool(session.scalar(_ANY_OPEN, {"customer_id": customer_id}))
    if not has_any:
        return PlansView()
    plans = list(
        session.scalars(
            select(PaymentPlan)
            .where(PaymentPlan.customer_id == customer_id, PaymentPlan.status.in_(OPEN_PLAN_STATES))
            .options(
                joinedload(PaymentPlan.invoices).joinedload(PlanInvoice.invoice),
                joinedload(PaymentPlan.instalments),
            )
            .order_by(PaymentPlan.created_at.desc(), PaymentPlan.id.desc())
        ).unique()
    )
    promises = list(
        session.scalars(
            select(PaymentPromise)
            .where(PaymentPromise.customer_id == customer_id, PaymentPromise.status == "open")
            .options(joinedload(PaymentPromise.invoices).joinedload(PromiseInvoice.invoice))
            .order_by(PaymentPromise.promised_on)
        ).unique()
    )
    in_plan = {covered.invoice.number: plan for plan in plans for covered in plan.invoices}
    promised = {covered.invoice.number: promise for promise in promises for covered in promise.invoices}
    offered = has_eligible_invoice(session, customer_id, plan_policy(session), today)
    return PlansView([plan_card(session, plan, today) for plan in plans], in_plan, promised, offered)


# Built once: the overview asks it on every view.
_EXISTS_OPEN = or_(
    select(PaymentPlan.id)
    .where(PaymentPlan.customer_id == bindparam("customer_id"), in_fixed(PaymentPlan.status, OPEN_PLAN_STATES))
    .exists(),
    select(PaymentPromise.id)
    .where(PaymentPromise.customer_id == bindparam("customer_id"), PaymentPromise.status == "open")
    .exists(),
)
_ANY_OPEN = select(_EXISTS_OPEN)
PRESENCE = register_presence_check("plans", _EXISTS_OPEN).name


def plan_card(session: Session, plan: PaymentPlan, today: date) -> PlanCard:
    if plan.status != "active":
        return PlanCard(plan, None)
    progress = progress_of(plan, today)
    if not progress.due_now:  # on schedule: no statement more for the overview
        return PlanCard(plan, progress)
    due = [status.instalment for status in progress.due_now]
    return PlanCard(
        plan,
        progress,
        pending=money_on_its_way(session, plan),
        by_debit=debit_still_expected(session, plan, due),
    )


def running_plan_of(session: Session, invoice_ids: list[int], *, today: date) -> PlanProgress | None:
    """Where the running plan covering any of ``invoice_ids`` stands: the thank-you page after an instalment
    says what is left of the plan, not that the invoices are "still open" and overdue."""
    if not invoice_ids:
        return None
    plan = session.scalars(
        select(PaymentPlan)
        .join(PlanInvoice, PlanInvoice.plan_id == PaymentPlan.id)
        .where(PlanInvoice.invoice_id.in_(invoice_ids), PaymentPlan.status == "active")
        .order_by(PaymentPlan.id.desc())
    ).first()
    return progress_of(plan, today) if plan is not None else None
