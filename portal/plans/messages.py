"""The debtor's e-mails about a payment plan, through the outbox in the customer's language: the agreement
confirmed, a proposal received, another plan offered, a proposal rejected.

Each carries a fresh personal link (as the direct-debit messages do), blanked from the stored copy once sent:
the plan's page and its PDF are behind it. The confirmation carries the agreement text itself and the
agreement as a PDF attachment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.events.models import DomainEvent
from portal.events.registry import react_to
from portal.links.messages import opening, queue_email_with_link
from portal.notifications.services import Attachment
from portal.plans import events as plan_events
from portal.plans import rules
from portal.plans.models import PaymentPlan
from portal.plans.pdf import agreement_document


def _plan_of(session: Session, event: DomainEvent) -> PaymentPlan | None:
    return session.get(PaymentPlan, int(event.subject_id or 0))


def _send(
    session: Session,
    event: DomainEvent,
    template: str,
    *,
    language: str | None = None,
    attachments: Sequence[Attachment] = (),
    **context: Any,
) -> None:
    plan = _plan_of(session, event)
    customer = plan.customer if plan is not None else None
    if plan is None or customer is None:
        return
    schedule = plan.instalments or rules.schedule(
        plan.total_cents, plan.instalment_count, plan.every, plan.first_due_on
    )
    queue_email_with_link(
        session,
        customer,
        template,
        {
            "reference": plan.reference,
            "total_cents": plan.total_cents,
            "currency": plan.currency,
            "method": plan.method,
            "instalments": [{"due_on": item.due_on, "amount_cents": item.amount_cents} for item in schedule],
            "answer_by": plan.answer_by,
            "invoice_count": len(plan.invoices),  # "this invoice" or "these invoices"
            "note": plan.decision_note,
            **context,
        },
        actor=Actor(type=event.actor_type, id=event.actor_id),
        language=language,
        attachments=attachments,
        link=opening(f"/plan/{plan.id}"),  # the plan's page (plans.show): its status, and what to decide
    )


def _agreed(session: Session, event: DomainEvent) -> None:
    plan = _plan_of(session, event)
    consent = plan.consent if plan is not None else None
    # In the language of the text agreed to (the page's, which the debtor may have switched), so the e-mail
    # around the agreement never speaks another language than the agreement itself.
    attachments = []
    if plan is not None and consent is not None:
        filename, pdf = agreement_document(plan)
        attachments.append(Attachment(filename, "application/pdf", pdf))
    _send(
        session,
        event,
        "plan_agreed",
        agreement=consent.text if consent else "",
        language=consent.locale if consent else None,
        attachments=attachments,
    )


def _proposed(session: Session, event: DomainEvent) -> None:
    _send(session, event, "plan_proposed")


def _countered(session: Session, event: DomainEvent) -> None:
    _send(session, event, "plan_countered")


def _rejected(session: Session, event: DomainEvent) -> None:
    _send(session, event, "plan_rejected")


react_to(plan_events.AGREED, _agreed)
react_to(plan_events.PROPOSED, _proposed)
react_to(plan_events.COUNTERED, _countered)
react_to(plan_events.REJECTED, _rejected)
