"""The debtor's e-mails about a dispute, through the outbox in the customer's language: the question received
(with the date to expect an answer), each reply from staff (its text, so it can be read at once), and the
decision (a credit note attached). Each carries a fresh personal link that opens the dispute's page.

Internal notes never cause an e-mail: they are staff's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.disputes import events as dispute_events
from portal.disputes.credit_notes import credit_note_document
from portal.disputes.models import Dispute, DisputeMessage
from portal.disputes.queries import credit_notes_of
from portal.events.models import DomainEvent
from portal.events.registry import react_to
from portal.links.messages import opening, queue_email_with_link
from portal.notifications.services import Attachment


def _dispute_of(session: Session, event: DomainEvent) -> Dispute | None:
    return session.get(Dispute, int(event.subject_id or 0))


def _send(
    session: Session,
    event: DomainEvent,
    dispute: Dispute,
    template: str,
    *,
    attachments: Sequence[Attachment] = (),
    **context: Any,
) -> None:
    queue_email_with_link(
        session,
        dispute.customer,
        template,
        {"reference": dispute.reference, "currency": dispute.currency, **context},
        actor=Actor(type=event.actor_type, id=event.actor_id),
        attachments=attachments,
        link=opening(f"/dispute/{dispute.id}"),  # disputes.show: the conversation and where it stands
    )


def _received(session: Session, event: DomainEvent) -> None:
    dispute = _dispute_of(session, event)
    if dispute is None:
        return
    _send(
        session,
        event,
        dispute,
        "dispute_received",
        answer_by=dispute.first_response_due_on,
        invoices=[{"number": item.invoice.number, "held_cents": item.held_cents} for item in dispute.invoices],
    )


def _replied(session: Session, event: DomainEvent) -> None:
    dispute = _dispute_of(session, event)
    if dispute is None:
        return
    latest = _latest_staff_message(dispute)
    if latest is None:
        return
    _send(session, event, dispute, "dispute_reply", reply=latest.body)


def _latest_staff_message(dispute: Dispute) -> DisputeMessage | None:
    said = [message for message in dispute.messages if message.author == "staff" and not message.internal]
    return said[-1] if said else None


def _resolved(session: Session, event: DomainEvent) -> None:
    dispute = _dispute_of(session, event)
    if dispute is None or dispute.outcome is None:
        return
    notes = credit_notes_of(session, dispute)
    corrected = dispute.corrected_invoice
    attachments = []
    for note in notes if dispute.outcome == "credit_note" else []:
        filename, pdf = credit_note_document(note)
        attachments.append(Attachment(filename, "application/pdf", pdf))
    _send(
        session,
        event,
        dispute,
        "dispute_resolved",
        attachments=attachments,
        outcome=dispute.outcome,
        note=dispute.outcome_note or "",
        credited_cents=sum(note.amount_cents for note in notes),
        corrected_number=corrected.number if corrected else "",
        corrected_cents=corrected.total_cents if corrected else 0,
        corrected_due_on=corrected.due_date if corrected else None,
        new_due_on=dispute.new_due_on,
    )


react_to(dispute_events.OPENED, _received)
react_to(dispute_events.STAFF_REPLIED, _replied)
react_to(dispute_events.RESOLVED, _resolved)
