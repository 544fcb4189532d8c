"""What a debtor's dispute page reads: the conversation as the debtor may see it, and the dispute's credit notes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.disputes.models import CreditNote, Dispute, DisputeMessage


def conversation_for_debtor(dispute: Dispute) -> list[DisputeMessage]:
    """Every message but staff's internal notes, oldest first."""
    return [message for message in dispute.messages if not message.internal]


def credit_notes_of(session: Session, dispute: Dispute) -> list[CreditNote]:
    return list(session.scalars(select(CreditNote).where(CreditNote.dispute_id == dispute.id).order_by(CreditNote.id)))


def credit_notes_for_invoice(session: Session, invoice_id: int) -> list[CreditNote]:
    return list(session.scalars(select(CreditNote).where(CreditNote.invoice_id == invoice_id).order_by(CreditNote.id)))
