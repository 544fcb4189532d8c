"""The payments feature's events: how each reads on the timeline, and the receipt that follows a payment."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal.audit.decisions import keep_in_audit_trail
from portal.audit.services import Actor
from portal.events import Event, EventKind, Presentation, register
from portal.events.models import DomainEvent
from portal.events.presenting import joined
from portal.events.registry import name_category
from portal.i18n import _, _l, format_money
from portal.payments.models import Payment, payment_reference

STARTED = "payment.started"
PAID = "payment.paid"
REFUNDED = "payment.refunded"
CHARGED_BACK = "payment.charged_back"
# A payment that arrived for invoices already paid (a second checkout the debtor also finished).
PAID_TWICE = "payment.paid_twice"
# The reason of a second PAID_TWICE event: the automatic refund the first one announced was refused, so the
# money is kept as credit after all (and the debtor is told so).
REFUND_REFUSED = "refund_refused"
# The provider gave back what a reversal took: a refund that failed, a dispute won, a chargeback reversed.
REFUND_FAILED = "payment.refund_failed"
CHARGEBACK_REVERSED = "payment.chargeback_reversed"
ENDED = {"failed": "payment.failed", "cancelled": "payment.cancelled", "expired": "payment.expired"}

_TITLES: dict[str, Any] = {
    STARTED: _l("Payment started"),
    PAID: _l("Payment received"),
    "payment.failed": _l("Payment failed"),
    "payment.cancelled": _l("Payment cancelled"),
    "payment.expired": _l("Payment expired"),
    REFUNDED: _l("Refund"),
    CHARGED_BACK: _l("Chargeback"),
    PAID_TWICE: _l("Paid twice"),
    REFUND_FAILED: _l("Refund did not go through"),
    CHARGEBACK_REVERSED: _l("Chargeback reversed"),
}


def about(kind: str, payment: Payment, actor: Actor, **payload: Any) -> Event:
    """The event of ``kind`` about ``payment``; every payment event names its amount's currency."""
    return Event(
        kind,
        actor,
        customer_id=payment.customer_id,
        subject=("payment", payment.id),
        payload={"currency": payment.currency, **payload},
    )


def _present(event: DomainEvent, _extra: Any) -> Presentation:
    from portal.payments.methods import method_name

    details = event.payload
    currency = str(details.get("currency", "EUR"))
    parts = [_("Payment %(reference)s", reference=payment_reference(int(event.subject_id or 0)))]
    if "amount_cents" in details:
        parts.append(format_money(int(details["amount_cents"]), currency))
    if details.get("method"):
        parts.append(method_name(str(details["method"])))
    if details.get("invoices"):
        parts.append(_("invoices %(numbers)s", numbers=", ".join(map(str, details["invoices"]))))
    if details.get("unallocated_cents"):
        credit = format_money(int(details["unallocated_cents"]), currency)
        parts.append(_("%(amount)s more than owed, kept as credit", amount=credit))
    if details.get("policy") == "refund":
        parts.append(_("paid back automatically"))
    elif details.get("policy") == "credit":
        parts.append(_("kept as credit"))
    if details.get("reason") == REFUND_REFUSED:
        parts.append(_("the automatic refund was refused"))
    elif details.get("reason"):
        parts.append(_("reason: %(reason)s", reason=details["reason"]))
    return Presentation(title=str(_TITLES[event.kind]), detail=joined(*parts))


def _send_receipt(session: Session, event: DomainEvent) -> None:
    from portal.payments.receipts import queue_receipt

    payment = session.get(Payment, int(event.subject_id or 0))
    if payment is not None:
        actor = Actor(type=event.actor_type, id=event.actor_id)
        queue_receipt(session, payment, actor=actor, paid_twice=bool(event.payload.get("paid_twice")))


def _send_paid_twice_notice(session: Session, event: DomainEvent) -> None:
    from portal.payments.receipts import queue_paid_twice_notice

    payment = session.get(Payment, int(event.subject_id or 0))
    if payment is not None:
        details = event.payload
        queue_paid_twice_notice(
            session,
            payment,
            policy=str(details["policy"]),
            amount_cents=int(details["amount_cents"]),
            refund_refused=details.get("reason") == REFUND_REFUSED,
            actor=Actor(type=event.actor_type, id=event.actor_id),
        )


_REACTIONS: dict[str, Any] = {PAID: [_send_receipt], PAID_TWICE: [_send_paid_twice_notice]}

for _name in _TITLES:
    register(
        EventKind(
            name=_name,
            category="payment",
            present=_present,
            # A started checkout is not news for the creditor's systems; what became of it is.
            public=_name != STARTED,
            reactions=_REACTIONS.get(_name, []),
        )
    )
name_category("payment", _l("Payments"))
# A refund staff make is in the audit trail too (who did what); one the provider reports is the system's.
keep_in_audit_trail(REFUNDED, _l("Payment refunded"))

# Loaded with the kinds, so every process that knows payments knows why it pauses dunning.
import portal.payments.pausing  # noqa: E402, F401
