"""The e-mail confirming a promise to pay, in the customer's language, through the outbox."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.events.models import DomainEvent
from portal.events.registry import react_to
from portal.links.messages import queue_email_with_link
from portal.plans import events as plan_events
from portal.plans.models import PaymentPromise


def _confirm_promise(session: Session, event: DomainEvent) -> None:
    promise = session.get(PaymentPromise, int(event.subject_id or 0))
    if promise is None:
        return
    queue_email_with_link(
        session,
        promise.customer,
        "promise_made",
        {
            "promised_on": promise.promised_on,
            "amount_cents": promise.amount_cents,
            "currency": promise.currency,
            "invoices": [
                {"number": covered.invoice.number, "amount_cents": covered.outstanding_cents}
                for covered in promise.invoices
            ],
        },
        actor=Actor(type=event.actor_type, id=event.actor_id),
        created_by="promise",
    )


react_to(plan_events.PROMISE_MADE, _confirm_promise)
