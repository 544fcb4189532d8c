"""The payment state machine. ``transition`` is the only place a payment's state changes.

created -> open -> pending -> paid, or to failed / cancelled / expired on the way. The three
unhappy ends may still turn into paid: if a provider says the money arrived, it did (a late
webhook after a time-out we took for a failure). Paid never goes back; money taken back after
that is a reversal, not a state.
"""

from __future__ import annotations

from datetime import datetime

from portal.payments.models import Payment

ALLOWED: dict[str, frozenset[str]] = {
    "created": frozenset({"open", "pending", "paid", "failed", "cancelled", "expired"}),
    "open": frozenset({"pending", "paid", "failed", "cancelled", "expired"}),
    "pending": frozenset({"paid", "failed", "cancelled", "expired"}),
    "failed": frozenset({"paid"}),
    "cancelled": frozenset({"paid"}),
    "expired": frozenset({"paid"}),
    "paid": frozenset(),
}
# Settled means money moved: the debtor's choices are kept open until one of these.
UNFINISHED = ("created", "open", "pending")


def can_transition(current: str, new: str) -> bool:
    return new in ALLOWED[current]


def transition(payment: Payment, new: str, now: datetime) -> bool:
    """Move ``payment`` to ``new`` if the machine allows it; True when the state changed.

    Stale news (an "open" after "paid", a second "paid") is ignored rather than an error: providers
    deliver webhooks late, twice and out of order.
    """
    if new == payment.state or not can_transition(payment.state, new):
        return False
    payment.state = new
    payment.updated_at = now
    if new == "paid":
        payment.paid_at = now
    return True
