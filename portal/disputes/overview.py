"""What the debtor's overview shows of disputes, in one statement: the open ones (with the part of each invoice
on hold) and those resolved lately (how they ended). Most debtors never disputed anything: for them a cheap
EXISTS comes first, and the ORM's load is never asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.presence import register_presence_check
from portal.db import in_fixed
from portal.disputes.models import OPEN_DISPUTE_STATES, Dispute, DisputeInvoice

# How long a resolved dispute stays on the overview, so the debtor sees how it ended when they come back.
SHOWN_AFTER_RESOLVED = timedelta(days=60)


@dataclass(frozen=True)
class DisputesView:
    open: list[Dispute] = field(default_factory=list)
    recent: list[Dispute] = field(default_factory=list)  # resolved or withdrawn lately, newest first
    on_invoice: dict[str, Dispute] = field(default_factory=dict)  # invoice number -> its open dispute
    held: dict[str, int] = field(default_factory=dict)  # invoice number -> cents on hold

    def held_in(self, currency: str) -> int:
        return sum(
            self.held.get(item.invoice.number, 0)
            for dispute in self.open
            if dispute.currency == currency
            for item in dispute.invoices
        )


def disputes_view(session: Session, customer_id: int, *, now: datetime, has_any: bool | None = None) -> DisputesView:
    """``has_any``: the answer of ``features_present`` for PRESENCE, when the page asked it already."""
    shown = {"customer_id": customer_id, **_shown_params(now)}
    # Most debtors never disputed anything: a cheap statement tells, and spares them the ORM's load.
    if has_any is None:
        has_any = bool(session.scalar(_ANY_SHOWN, shown))
    if not has_any:
        return DisputesView()
    disputes = list(session.scalars(_SHOWN, shown).unique())
    if not disputes:
        return DisputesView()
    open_ones = [dispute for dispute in disputes if dispute.is_open]
    covered = [(covered, dispute) for dispute in open_ones for covered in dispute.invoices]
    return DisputesView(
        open=open_ones,
        recent=[dispute for dispute in disputes if not dispute.is_open],
        on_invoice={item.invoice.number: dispute for item, dispute in covered},
        # Never more than the invoice still owes: a transfer may have paid it meanwhile.
        held={item.invoice.number: min(item.held_cents, item.invoice.outstanding_cents) for item, _ in covered},
    )


# Built once: the overview asks them on every view (selectinload adds a statement only when a dispute is found).
_SHOWN_OF_ONE = (
    Dispute.customer_id == bindparam("customer_id"),
    or_(in_fixed(Dispute.status, OPEN_DISPUTE_STATES), Dispute.resolved_at >= bindparam("resolved_since")),
)
_EXISTS_SHOWN = select(Dispute.id).where(*_SHOWN_OF_ONE).exists()
_ANY_SHOWN = select(_EXISTS_SHOWN)
_SHOWN = (
    select(Dispute)
    .where(*_SHOWN_OF_ONE)
    .options(selectinload(Dispute.invoices).selectinload(DisputeInvoice.invoice))
    .order_by(Dispute.created_at.desc(), Dispute.id.desc())
)


def _shown_params(now: datetime) -> dict[str, datetime]:
    return {"resolved_since": now - SHOWN_AFTER_RESOLVED}


PRESENCE = register_presence_check("disputes", _EXISTS_SHOWN, params=_shown_params).name
