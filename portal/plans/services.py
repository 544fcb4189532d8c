"""Proposing payment plans and agreeing them. Views and jobs call these; nothing here reads Flask's request.

A proposal inside the policy is agreed at once. Anything else waits for staff, who approve it, reject it with a
reason, or offer another schedule, which the debtor then accepts or declines (decisions.py). Every plan the debtor
agrees to carries their consent (see :class:`ConsentEvidence`): the exact text they were shown, when, from where.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.business_calendar import add_business_days
from portal.customers.models import Customer
from portal.debits.pausing import debit_on_its_way
from portal.events import emit
from portal.invoices.models import Invoice
from portal.plans import events as plan_events
from portal.plans import rules
from portal.plans.errors import PlanProblem
from portal.plans.models import (
    OPEN_PLAN_STATES,
    PLAN_METHODS,
    PaymentPlan,
    PaymentPromise,
    PlanConsent,
    PlanInstalment,
    PlanInvoice,
    PromiseInvoice,
)
from portal.plans.policy import PlanPolicy, plan_policy, policy_versions

MAX_REASON = 2000
# Why a proposal inside the limits still goes to staff (beside rules.REASONS): an earlier one was not kept.
RECENTLY_NOT_KEPT = "recently_not_kept"
# Beyond any plan a person means, and keeps the JSON and the pages small.
MAX_INSTALMENTS = 60


@dataclass(frozen=True)
class ConsentEvidence:
    """What the debtor agreed to, as the view saw it: the agreement text exactly as shown, and where from."""

    text: str
    locale: str
    ip_address: str | None
    user_agent: str | None


@dataclass(frozen=True)
class PlanPreview:
    invoices: list[Invoice]  # oldest first: the money of each instalment goes to them in this order
    currency: str
    proposal: rules.Proposal
    policy: rules.Policy


def _eligible(customer_id: int, policy: PlanPolicy, today: date) -> list[ColumnElement[bool]]:
    """The conditions of an invoice a plan or promise may cover (see :func:`eligible_invoices`)."""
    in_plan = exists(
        select(PlanInvoice.invoice_id)
        .join(PaymentPlan, PaymentPlan.id == PlanInvoice.plan_id)
        .where(PlanInvoice.invoice_id == Invoice.id, PaymentPlan.status.in_(OPEN_PLAN_STATES))
    )
    promised = exists(
        select(PromiseInvoice.invoice_id)
        .join(PaymentPromise, PaymentPromise.id == PromiseInvoice.promise_id)
        .where(PromiseInvoice.invoice_id == Invoice.id, PaymentPromise.status == "open")
    )
    conditions = [
        Invoice.customer_id == customer_id,
        Invoice.state == "open",
        Invoice.outstanding_cents > 0,
        ~debit_on_its_way(clock.now()),
        ~in_plan,
        ~promised,
    ]
    if policy.invoices == "overdue":
        conditions.append(Invoice.due_date < today)
    return conditions


def eligible_invoices(session: Session, customer: Customer, policy: PlanPolicy, today: date) -> list[Invoice]:
    """The customer's invoices a plan or promise may cover: owed, not yet in a plan or promise, not about to be
    collected by a direct debit already announced for it, and overdue when the policy covers only overdue
    invoices. Oldest first."""
    query = select(Invoice).where(*_eligible(customer.id, policy, today)).order_by(Invoice.due_date, Invoice.number)
    return list(session.scalars(query))


def has_eligible_invoice(
    session: Session, customer_id: int, policy: PlanPolicy, today: date, number: str | None = None
) -> bool:
    """Whether a plan or promise could cover any of the customer's invoices (or invoice ``number``) now: one
    statement, for the pages that offer "more time" only where it can still be had."""
    conditions = _eligible(customer_id, policy, today)
    if number is not None:
        conditions.append(Invoice.number == number)
    return bool(session.scalar(select(exists(select(Invoice.id).where(*conditions)))))


def choose_plan_invoices(
    session: Session, customer: Customer, numbers: Sequence[str], policy: PlanPolicy, today: date
) -> list[Invoice]:
    if not numbers:
        raise PlanProblem("nothing_selected")
    eligible = {invoice.number: invoice for invoice in eligible_invoices(session, customer, policy, today)}
    if any(number not in eligible for number in numbers):
        raise PlanProblem("invoice_not_eligible")
    chosen = [invoice for number, invoice in eligible.items() if number in set(numbers)]
    if len({invoice.currency for invoice in chosen}) > 1:
        raise PlanProblem("mixed_currencies")
    return chosen


def preview_plan(
    session: Session,
    customer: Customer,
    numbers: Sequence[str],
    *,
    instalments: int,
    every: str,
    first: date,
    today: date,
    at: datetime | None = None,
) -> PlanPreview:
    """The schedule the debtor would get for these invoices and choices, and whether the policy allows it."""
    policy = plan_policy(session, at)
    invoices = choose_plan_invoices(session, customer, numbers, policy, today)
    total = sum(invoice.outstanding_cents for invoice in invoices)
    kind_policy = policy.for_kind(customer.kind)
    proposal = check_choices(kind_policy, total, instalments=instalments, every=every, first=first, today=today)
    if proposal.within_policy and recently_not_kept(session, customer, policy, at or clock.now()):
        proposal = rules.Proposal(proposal.instalments, RECENTLY_NOT_KEPT)
    return PlanPreview(invoices, invoices[0].currency, proposal, kind_policy)


def recently_not_kept(session: Session, customer: Customer, policy: PlanPolicy, now: datetime) -> bool:
    """A plan of the customer lapsed, or a promise of theirs was broken, within the cooling-off days: a new
    arrangement is then for staff to decide, so dunning cannot be put off again and again by the portal alone."""
    if policy.cooling_off_days <= 0:
        return False
    since = now - timedelta(days=policy.cooling_off_days)
    lapsed = select(PaymentPlan.id).where(
        PaymentPlan.customer_id == customer.id, PaymentPlan.status == "lapsed", PaymentPlan.ended_at >= since
    )
    broken = select(PaymentPromise.id).where(
        PaymentPromise.customer_id == customer.id,
        PaymentPromise.status == "broken",
        PaymentPromise.ended_at >= since,
    )
    return bool(session.scalar(select(or_(lapsed.exists(), broken.exists()))))


def check_choices(
    policy: rules.Policy, total_cents: int, *, instalments: int, every: str, first: date, today: date
) -> rules.Proposal:
    """rules.propose, with the choices a person can get wrong turned into a PlanProblem they can read."""
    if every not in rules.FREQUENCIES:
        raise PlanProblem("frequency_invalid")
    if not 1 <= instalments <= MAX_INSTALMENTS:
        raise PlanProblem("instalments_invalid", maximum=MAX_INSTALMENTS)
    if first < today:
        raise PlanProblem("first_in_past")
    if first > today + timedelta(days=rules.LATEST_FIRST_DAYS):
        raise PlanProblem("first_too_far")
    if total_cents < instalments:
        raise PlanProblem("too_many_cents")
    return rules.propose(policy, total_cents, instalments, every, first, today)


def propose_plan(
    session: Session,
    customer: Customer,
    numbers: Sequence[str],
    *,
    instalments: int,
    every: str,
    first: date,
    consent: ConsentEvidence,
    actor: Actor,
    reason: str | None = None,
    budget: dict[str, int] | None = None,
    method: str = "portal",
    shown_total_cents: int | None = None,
) -> PaymentPlan:
    """The debtor's proposal: agreed at once when inside the policy, else waiting for staff (``answer_by``).

    ``shown_total_cents``: the total of the agreement the debtor saw; when a payment came in meanwhile, the
    proposal is refused ("agreement_changed") rather than stored with consent to other amounts."""
    if reason is not None and len(reason) > MAX_REASON:
        raise PlanProblem("reason_too_long", limit=MAX_REASON)
    if not consent.text.strip():
        raise PlanProblem("consent_missing")
    if method not in PLAN_METHODS:
        raise PlanProblem("method_invalid")
    # Serialise a customer's proposals, so a double click cannot make two plans for the same invoices.
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    now = clock.now()
    today = clock.today_for(customer, now)
    preview = preview_plan(
        session, customer, numbers, instalments=instalments, every=every, first=first, today=today, at=now
    )
    if shown_total_cents is not None and shown_total_cents != preview.proposal.total_cents:
        raise PlanProblem("agreement_changed")
    policy = plan_policy(session, now)
    plan = PaymentPlan(
        customer_id=customer.id,
        status="proposed",
        currency=preview.currency,
        total_cents=preview.proposal.total_cents,
        instalment_count=instalments,
        every=every,
        first_due_on=first,
        customer_kind=preview.policy.kind,
        method=method,
        policy_reason=preview.proposal.reason,
        debtor_reason=(reason or "").strip() or None,
        budget=budget or None,
        proposed_schedule=preview.proposal.as_json()["instalments"],
        created_at=now,
        updated_at=now,
    )
    plan.invoices = [
        PlanInvoice(
            invoice_id=invoice.id,
            position=position,
            outstanding_cents=invoice.outstanding_cents,
            paid_before_cents=invoice.paid_cents,
        )
        for position, invoice in enumerate(preview.invoices)
    ]
    session.add(plan)
    session.flush()
    record_consent(session, plan, consent, now)
    if preview.proposal.within_policy:
        activate_plan(session, plan, preview.proposal.instalments, actor=actor, decided_by="policy", now=now)
    else:
        plan.answer_by = add_business_days(today, policy.answer_days, customer.country)
        emit(
            session,
            plan_events.about_plan(
                plan_events.PROPOSED, plan, actor, reason=plan.policy_reason, answer_by=plan.answer_by.isoformat()
            ),
        )
    return plan


def record_consent(
    session: Session, plan: PaymentPlan, consent: ConsentEvidence, now: datetime, *, purpose: str = "proposal"
) -> None:
    """The consent as evidence, beside any earlier one (the debtor's own proposal, before a counter-offer)."""
    plan.consents.append(
        PlanConsent(
            purpose=purpose,
            accepted_at=now,
            ip_address=consent.ip_address,
            user_agent=(consent.user_agent or "")[:400] or None,
            locale=consent.locale,
            text=consent.text,
            text_sha256=hashlib.sha256(consent.text.encode()).hexdigest(),
            settings_versions=policy_versions(session, now),
        )
    )
    session.flush()


def activate_plan(
    session: Session,
    plan: PaymentPlan,
    schedule: list[rules.Instalment],
    *,
    actor: Actor,
    decided_by: str,
    now: datetime,
) -> None:
    """The plan runs from now: its instalments, and what had been paid on its invoices until now."""
    plan.instalments = [
        PlanInstalment(number=number, due_on=item.due_on, amount_cents=item.amount_cents)
        for number, item in enumerate(schedule, start=1)
    ]
    for covered in plan.invoices:
        covered.paid_before_cents = covered.invoice.paid_cents
    # The terms of the text the debtor agreed to: the policy when they consented (a proposal approved days later
    # keeps the grace period its agreement names).
    policy = plan_policy(session, plan.consent.accepted_at if plan.consent else now)
    plan.grace_days, plan.interest = policy.grace_days, policy.interest
    plan.status = "active"
    plan.decided_by = plan.decided_by or decided_by
    plan.decided_at = plan.decided_at or now
    plan.agreed_at = now
    plan.updated_at = now
    session.flush()
    emit(session, plan_events.about_plan(plan_events.AGREED, plan, actor, decided_by=decided_by))


def open_plans(session: Session, customer: Customer) -> list[PaymentPlan]:
    """The customer's plans that are waiting or running, newest first."""
    return list(
        session.scalars(
            select(PaymentPlan)
            .where(PaymentPlan.customer_id == customer.id, PaymentPlan.status.in_(OPEN_PLAN_STATES))
            .order_by(PaymentPlan.created_at.desc(), PaymentPlan.id.desc())
        )
    )
