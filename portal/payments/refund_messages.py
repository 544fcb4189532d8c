"""The e-mail that tells a debtor staff paid money back to them, and which invoice it made owed again.

Only for a refund staff made in the portal: the paid-twice refund has its own notice (receipts.py), and a
chargeback is the debtor's own bank's doing, explained on their pages.

Queued by ``refunds.send_refund`` once the refund is recorded as the staff member's, not as a reaction to the
REFUNDED event: the provider's webhook often records the refund first, and that record (and its event) cannot
tell a refund staff asked for from one made in the provider's dashboard. Only the answer to the staff request
names the refund it made, so that is where the debtor is told, once.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.links.messages import queue_email_with_link
from portal.payments.allocation import effect_of
from portal.payments.models import PaymentReversal


def queue_refund_email(session: Session, reversal: PaymentReversal, *, actor: Actor) -> None:
    """Tell the debtor about a staff refund: how much went back, and which invoices it made owed again."""
    session.flush()  # the allocations the refund just added read their invoices only once they are rows
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
        actor=actor,
    )
