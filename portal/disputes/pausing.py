"""What a dispute holds: dunning is paused for its invoices ("dispute"), their debits do not collect them, and
the disputed part is not asked for on the pay page.

The pause holds while the dispute is open, and after a rejection until the end of the new due date where the
customer lives (``paused_until``). It is asked before every other reason (``first=True``), so an invoice both
disputed and in a plan, or refunded, reads as disputed: that is what staff must answer first.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from portal.accounts.held import register_held_amount
from portal.accounts.pausing import register_pause_reason
from portal.debits.holds import register_collection_hold
from portal.disputes.models import OPEN_DISPUTE_STATES, Dispute, DisputeInvoice
from portal.i18n import _l
from portal.invoices.models import Invoice

DISPUTE = "dispute"
OUTSTANDING = Invoice.outstanding_cents


def disputed(at: datetime) -> ColumnElement[bool]:
    """Open, and in a dispute that is open, or was rejected with a new due date not yet past at ``at``."""
    covered = exists(
        select(DisputeInvoice.id)
        .join(Dispute, Dispute.id == DisputeInvoice.dispute_id)
        .where(
            DisputeInvoice.invoice_id == Invoice.id,
            or_(Dispute.status.in_(OPEN_DISPUTE_STATES), Dispute.paused_until > at),
        )
    )
    return and_(Invoice.state == "open", covered)


def held_by_open_disputes(session: Session, invoice_ids: Collection[int]) -> dict[int, int]:
    """The disputed part of each invoice while its dispute is open (a rejected one asks for everything again),
    never more than the invoice still owes: a transfer that paid it meanwhile leaves less to hold."""
    rows = session.execute(
        select(DisputeInvoice.invoice_id, func.sum(DisputeInvoice.held_cents), OUTSTANDING)
        .join(Dispute, Dispute.id == DisputeInvoice.dispute_id)
        .join(Invoice, Invoice.id == DisputeInvoice.invoice_id)
        .where(DisputeInvoice.invoice_id.in_(list(invoice_ids)), Dispute.status.in_(OPEN_DISPUTE_STATES))
        .group_by(DisputeInvoice.invoice_id, OUTSTANDING)
    )
    return {invoice_id: min(int(cents), int(owed)) for invoice_id, cents, owed in rows}


def _collection_held(session: Session, invoice: Invoice) -> bool:
    """A debit must not collect money the debtor says they do not owe; the rest is paid in the portal. A
    disputed line that holds nothing (a discount) does not stop the debit."""
    return any(cents > 0 for cents in held_by_open_disputes(session, [invoice.id]).values())


register_pause_reason(DISPUTE, disputed, first=True, label=_l("a dispute"))
register_held_amount(DISPUTE, held_by_open_disputes)
register_collection_hold(DISPUTE, _collection_held)
