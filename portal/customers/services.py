"""What staff do to a customer's record. Links are made and revoked by portal.links.services."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.audit.services import Actor, record
from portal.customers import events as customer_events
from portal.customers.models import Customer, CustomerNote
from portal.events import Event, emit
from portal.staff.models import StaffUser

NOTE_MAX_LENGTH = 5000


def add_note(session: Session, customer: Customer, author: StaffUser, body: str, actor: Actor) -> CustomerNote:
    """Keep a note on the customer's story. Notes are never edited; a correction is a new note.

    The text goes in the note only, not in the audit record: the trail says who added a note when,
    and the note itself is the one place its (possibly personal) contents live.
    """
    text = body.replace("\r\n", "\n").strip()
    if not text or len(text) > NOTE_MAX_LENGTH:
        raise ValueError(f"a note holds 1 to {NOTE_MAX_LENGTH} characters")
    note = CustomerNote(customer_id=customer.id, author_id=author.id, body=text)
    session.add(note)
    session.flush()
    record(session, actor, "note.added", customer_id=customer.id, subject=("note", note.id))
    emit(session, Event(customer_events.NOTE_ADDED, actor, customer_id=customer.id, subject=("note", note.id)))
    return note
