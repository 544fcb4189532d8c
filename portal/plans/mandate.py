"""Which mandate collects a plan's instalments, for the plan form, the agreement and the collection run alike."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.debits.models import Mandate


def active_mandate(session: Session, customer_id: int) -> Mandate | None:
    """The mandate that collects a plan's instalments: the customer's newest active one, unless the creditor's own
    bank collects on it (its pain.008 file is built from a schedule's Debit rows only, so the plan form does not
    offer direct debit then, and the instalments are paid in the portal)."""
    return session.scalars(
        select(Mandate)
        .where(Mandate.customer_id == customer_id, Mandate.status == "active", Mandate.collector != "bank")
        .order_by(Mandate.id.desc())
        .limit(1)
    ).first()
