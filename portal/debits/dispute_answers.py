"""A dispute opened on an invoice whose debit failed answers that failure: the debit records the debtor's
choice ("dispute", with the dispute's reference), so the failed-debit banner and the staff's queue of failed
debits stop asking; withdrawn, the failure asks again. Only the events (their kinds and payloads) are read:
debits knows nothing else of disputes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.debits.choices import disputed
from portal.debits.errors import DebitProblem
from portal.debits.models import Debit
from portal.disputes.events import OPENED as DISPUTE_OPENED
from portal.disputes.events import WITHDRAWN as DISPUTE_WITHDRAWN
from portal.events.models import DomainEvent
from portal.events.registry import react_to
from portal.invoices.models import Invoice


def _answer_failed_debits(session: Session, event: DomainEvent) -> None:
    numbers = [str(number) for number in event.payload.get("invoices", [])]
    if not numbers or event.customer_id is None:
        return
    debits = session.scalars(
        select(Debit)
        .join(Invoice, Invoice.id == Debit.invoice_id)
        .where(
            Debit.customer_id == event.customer_id,
            Invoice.number.in_(numbers),
            Debit.state == "failed",
            Debit.choice.is_(None),
        )
    )
    actor = Actor(type=event.actor_type, id=event.actor_id)
    for debit in debits:
        try:
            disputed(session, debit, str(event.payload.get("reference", "")), actor=actor)
        except DebitProblem:
            continue  # answered meanwhile, or the invoice was settled: nothing left to ask


def _ask_again(session: Session, event: DomainEvent) -> None:
    """The debtor withdrew the dispute (nothing wrong after all): the failed debit asks what to do again, so they
    can pay it or have it tried again."""
    reference = str(event.payload.get("reference", ""))
    answered = session.scalars(
        select(Debit).where(Debit.customer_id == event.customer_id, Debit.state == "failed", Debit.choice == "dispute")
    )
    for debit in answered:
        if (debit.choice_details or {}).get("dispute") == reference:
            debit.choice = None
            debit.choice_details = None
            debit.chosen_at = None


react_to(DISPUTE_OPENED, _answer_failed_debits)
react_to(DISPUTE_WITHDRAWN, _ask_again)
