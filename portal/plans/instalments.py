"""Paying a running plan's instalments: what paying the ones due now charges, and whether anything already
takes care of them (a payment on its way, a direct debit that will still collect), so nobody pays twice."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.payments.models import Payment, PaymentItem
from portal.payments.services import PaymentChoice, choose_invoices
from portal.plans.errors import PlanProblem
from portal.plans.mandate import active_mandate
from portal.plans.models import PaymentPlan, PlanInstalment
from portal.plans.progress import progress_of


def money_on_its_way(session: Session, plan: PaymentPlan) -> bool:
    """A payment on the plan's invoices that the provider or the bank accepted and has not settled yet (a direct
    debit being collected, a bank payment pending): paying again now would pay twice."""
    found = session.scalar(
        select(Payment.id)
        .join(PaymentItem, PaymentItem.payment_id == Payment.id)
        .where(
            PaymentItem.invoice_id.in_([covered.invoice_id for covered in plan.invoices]), Payment.state == "pending"
        )
        .limit(1)
    )
    return found is not None


def debit_still_expected(session: Session, plan: PaymentPlan, due: list[PlanInstalment]) -> bool:
    """A plan paid by direct debit whose ``due`` instalments its debits will still collect: the mandate is active
    and none of their debits has failed (one not started yet is collected by the next run, on a TARGET day)."""
    if plan.method != "direct_debit" or active_mandate(session, plan.customer_id) is None:
        return False
    payment_ids = [instalment.payment_id for instalment in due if instalment.payment_id is not None]
    ended = session.scalar(
        select(Payment.id).where(Payment.id.in_(payment_ids), Payment.state.in_(("failed", "cancelled", "expired")))
    )
    return ended is None


def portal_instalment_choice(session: Session, plan: PaymentPlan, today: date) -> PaymentChoice:
    """instalment_choice for the debtor paying in the portal: refused while a payment for the plan is on its way,
    and on a direct-debit plan while its debits will still collect (once one failed, it is paid here)."""
    if money_on_its_way(session, plan):
        raise PlanProblem("payment_pending")
    unpaid = [status.instalment for status in progress_of(plan, today).instalments if status.state != "paid"]
    if debit_still_expected(session, plan, unpaid):
        raise PlanProblem("collected_by_debit")
    return instalment_choice(session, plan, today)


def instalment_choice(session: Session, plan: PaymentPlan, today: date) -> PaymentChoice:
    """What paying the instalments due now (or else the next one) of a running plan charges, over the plan's
    open invoices oldest first: a part-payment the pay page and the direct-debit collector both start."""
    if plan.status != "active":
        raise PlanProblem("not_active")
    progress = progress_of(plan, today)
    upcoming = progress.next_unpaid
    amount = progress.due_now_cents or (upcoming.left_cents if upcoming else 0)
    numbers = [covered.invoice.number for covered in plan.invoices if covered.invoice.outstanding_cents > 0]
    if amount <= 0 or not numbers:
        raise PlanProblem("nothing_due")
    outstanding = sum(covered.invoice.outstanding_cents for covered in plan.invoices)
    return choose_invoices(
        session, plan.customer, numbers, partial_cents=min(amount, outstanding), minimum_partial_cents=1
    )
