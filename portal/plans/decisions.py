"""Deciding on a proposal outside the policy: staff approve, reject or counter it; the debtor answers a counter."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.events import emit
from portal.plans import events as plan_events
from portal.plans import rules
from portal.plans.errors import PlanProblem
from portal.plans.models import PaymentPlan
from portal.plans.policy import plan_policy
from portal.plans.services import MAX_REASON, ConsentEvidence, activate_plan, check_choices, record_consent


def lock_plan(session: Session, plan_id: int) -> PaymentPlan:
    """The plan, locked for a decision: two staff deciding at once, or a decision racing the debtor."""
    # populate_existing: a plan already in the session (read before the lock) is re-read, so the status the
    # decision checks is the one under the lock, not the one the request saw earlier.
    plan = session.scalar(
        select(PaymentPlan).where(PaymentPlan.id == plan_id).with_for_update().execution_options(populate_existing=True)
    )
    if plan is None:
        raise PlanProblem("not_waiting")
    return plan


def policy_verdict(session: Session, plan: PaymentPlan, at: datetime | None = None) -> str | None:
    """What the policy in force says now about the plan's schedule as it stands (a code of rules.REASONS, or
    None inside it). Staff decide under today's policy: a proposal the policy has since come to allow is an
    agent's to approve; one whose first date has passed meanwhile is not."""
    now = at or clock.now()
    policy = plan_policy(session, now).for_kind(plan.customer_kind)
    schedule = rules.schedule(plan.total_cents, plan.instalment_count, plan.every, plan.first_due_on)
    return rules.outside_policy(policy, schedule, clock.today_for(plan.customer, now))


def _refuse_changed_amounts(plan: PaymentPlan, code: str) -> None:
    """The schedule and the acknowledgement of debt name what was owed when the plan was proposed (or offered):
    once a payment came in or an invoice changed, agreeing to it would acknowledge a wrong debt."""
    if any(covered.invoice.outstanding_cents != covered.outstanding_cents for covered in plan.invoices):
        raise PlanProblem(code)


def approve_plan(session: Session, plan: PaymentPlan, *, actor: Actor, staff_email: str, supervisor: bool) -> None:
    """Staff approve the debtor's proposal as it is (the debtor consented to it when proposing)."""
    if plan.status != "proposed":
        raise PlanProblem("not_waiting")
    _refuse_changed_amounts(plan, "amounts_changed")
    now = clock.now()
    if policy_verdict(session, plan, now) is not None and not supervisor:
        raise PlanProblem("needs_supervisor")
    plan.decided_by, plan.decided_at = staff_email, now
    schedule = rules.schedule(plan.total_cents, plan.instalment_count, plan.every, plan.first_due_on)
    activate_plan(session, plan, schedule, actor=actor, decided_by=staff_email, now=now)


def reject_plan(session: Session, plan: PaymentPlan, *, reason: str, actor: Actor, staff_email: str) -> None:
    if plan.status != "proposed":
        raise PlanProblem("not_waiting")
    reason = reason.strip()
    if not reason:
        raise PlanProblem("reason_missing")
    if len(reason) > MAX_REASON:
        raise PlanProblem("reason_too_long", limit=MAX_REASON)
    now = clock.now()
    plan.status = "rejected"
    plan.decided_by, plan.decided_at, plan.decision_note = staff_email, now, reason
    plan.ended_at = plan.updated_at = now
    emit(session, plan_events.about_plan(plan_events.REJECTED, plan, actor, note=reason))


def counter_plan(
    session: Session,
    plan: PaymentPlan,
    *,
    instalments: int,
    every: str,
    first: date,
    actor: Actor,
    staff_email: str,
    supervisor: bool,
    note: str | None = None,
) -> rules.Proposal:
    """Staff offer another schedule for the same invoices; the debtor accepts or declines it in the portal."""
    if plan.status != "proposed":
        raise PlanProblem("not_waiting")
    _refuse_changed_amounts(plan, "amounts_changed")
    now = clock.now()
    today = clock.today_for(plan.customer, now)
    policy = plan_policy(session, now).for_kind(plan.customer_kind)
    proposal = check_choices(policy, plan.total_cents, instalments=instalments, every=every, first=first, today=today)
    if not proposal.within_policy and not supervisor:
        raise PlanProblem("needs_supervisor")
    plan.status = "countered"
    plan.instalment_count, plan.every, plan.first_due_on = instalments, every, first
    plan.decided_by, plan.decided_at = staff_email, now
    plan.decision_note = (note or "").strip() or None
    plan.updated_at = now
    emit(session, plan_events.about_plan(plan_events.COUNTERED, plan, actor, note=plan.decision_note))
    return proposal


def accept_counter(session: Session, plan: PaymentPlan, *, consent: ConsentEvidence, actor: Actor) -> None:
    if plan.status != "countered":
        raise PlanProblem("not_countered")
    if not consent.text.strip():
        raise PlanProblem("consent_missing")
    now = clock.now()
    if plan.first_due_on < clock.today_for(plan.customer, now):
        raise PlanProblem("counter_expired")  # the lifecycle run ends the offer; the debtor may propose anew
    _refuse_changed_amounts(plan, "amounts_changed_since_offer")
    record_consent(session, plan, consent, now, purpose="counter")
    schedule = rules.schedule(plan.total_cents, plan.instalment_count, plan.every, plan.first_due_on)
    activate_plan(session, plan, schedule, actor=actor, decided_by=plan.decided_by or "staff", now=now)


def decline_counter(session: Session, plan: PaymentPlan, *, actor: Actor) -> None:
    if plan.status != "countered":
        raise PlanProblem("not_countered")
    now = clock.now()
    plan.status = "declined"
    plan.ended_at = plan.updated_at = now
    emit(session, plan_events.about_plan(plan_events.DECLINED, plan, actor))
