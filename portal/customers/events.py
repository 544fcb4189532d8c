"""The customers feature's events: notes staff keep on a customer's story."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.customers.models import CustomerNote
from portal.events import EventKind, Presentation, register
from portal.events.models import DomainEvent
from portal.events.registry import name_category
from portal.i18n import _, _l
from portal.staff.models import StaffUser

NOTE_ADDED = "note.added"


def _notes(session: Session, events: Sequence[DomainEvent]) -> dict[str, tuple[str, str]]:
    # The note is the one place its (possibly personal) text lives; the event only points at it.
    ids = [int(event.subject_id) for event in events if event.subject_id]
    rows = session.execute(
        select(CustomerNote.id, CustomerNote.body, StaffUser.name)
        .join(StaffUser, StaffUser.id == CustomerNote.author_id)
        .where(CustomerNote.id.in_(ids))
    )
    return {str(note_id): (body, author) for note_id, body, author in rows}


def _present_note(event: DomainEvent, notes: dict[str, tuple[str, str]]) -> Presentation:
    body, author = notes.get(event.subject_id or "", ("", ""))
    return Presentation(title=_("Note"), detail=body, actor=author)


register(EventKind(name=NOTE_ADDED, category="note", present=_present_note, prefetch=_notes))
name_category("note", _l("Notes"))
