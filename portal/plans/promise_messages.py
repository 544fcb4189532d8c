"""The e-mail confirming a promise to pay, in the customer's language, through the outbox."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.events.models import DomainEvent
from portal.events.registry import react_to
from portal.links.services import create_link
from portal.notifications.services import queue_email
from portal.plans import events as plan_events
from portal.plans.models import PaymentPromise


def _confirm_promise(session: Session, event: DomainEvent) -> None:
    promise = session.get(PaymentPromise, int(event.subject_id or 0))
    if promise is None:
        return
    customer = promise.customer
    if not customer.email:
        return
    actor = Actor(type=event.actor_type, id=event.actor_id)
    config = current_app.config
    issued = create_link(session, customer, ttl_days=config["LINK_TTL_DAYS"], created_by="promise", actor=actor)
    url = issued.url(config["BASE_URL"])
    queue_email(
        session,
        to=customer.email,
        template="promise_made",
        language=customer.language,
        context={
            "customer_name": customer.name,
            "link_url": url,
            "promised_on": promise.promised_on,
            "amount_cents": promise.amount_cents,
            "currency": promise.currency,
            "invoices": [
                {"number": covered.invoice.number, "amount_cents": covered.outstanding_cents}
                for covered in promise.invoices
            ],
        },
        actor=actor,
        customer_id=customer.id,
        secrets=(url,),
    )


react_to(plan_events.PROMISE_MADE, _confirm_promise)
