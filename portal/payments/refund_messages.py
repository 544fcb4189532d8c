"""The e-mail that tells a debtor staff paid money back to them, and which invoice it made owed again.

Only for a refund staff made in the portal: the paid-twice refund has its own notice (receipts.py), and a
chargeback is the debtor's own bank's doing, explained on their pages."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.events.models import DomainEvent
from portal.events.registry import react_to
from portal.links.messages import queue_email_with_link
from portal.payments import events as payment_events
from portal.payments.allocation import effect_of
from portal.payments.models import PaymentReversal


def _tell_the_debtor(session: Session, event: DomainEvent) -> None:
    if event.actor_type != "staff":
        return
    reversal = session.get(PaymentReversal, int(event.payload.get("reversal_id") or 0))
    if reversal is None:
        return
    payment = reversal.payment
    effect = effect_of(reversal)
    queue_email_with_link(
        session,
        payment.customer,
        "payment_refunded",
        {
            "amount_cents": reversal.amount_cents,
            "currency": payment.currency,
            "reference": payment.reference,
            "reopened": [{"number": number, "amount_cents": cents} for number, cents in effect.reopened],
        },
        actor=Actor(type=event.actor_type, id=event.actor_id),
    )


react_to(payment_events.REFUNDED, _tell_the_debtor)
