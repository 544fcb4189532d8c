"""What staff do with a dispute before its outcome: reply to the debtor, write an internal note, assign it.

Each locks the dispute first (``lock_dispute``), so two staff acting at once take turns and the second sees
what the first did. Two replies may both land: they are turns of one conversation. An assignment, though,
answers the page it was chosen on: when the dispute changed since, the choice may no longer make sense.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.disputes import events as dispute_events
from portal.disputes.conversation import add_message, clean_text
from portal.disputes.errors import DisputeProblem
from portal.disputes.models import Dispute, DisputeMessage
from portal.disputes.services import lock_dispute
from portal.events import emit
from portal.staff.models import StaffUser
from portal.staff.permissions import Permission, role_allows


def may_handle(staff: StaffUser | None) -> bool:
    """Whether a staff member can be given a dispute: active, with a role that may handle one."""
    return staff is not None and staff.active and role_allows(staff.role, Permission.HANDLE_DISPUTES)


def _locked_open(session: Session, dispute: Dispute) -> Dispute:
    locked = lock_dispute(session, dispute.id)
    if locked is None or not locked.is_open:
        raise DisputeProblem("not_open")
    return locked


def staff_reply(
    session: Session, dispute: Dispute, staff: StaffUser, body: str | None, *, actor: Actor
) -> DisputeMessage:
    """A reply the debtor reads (and is e-mailed about: a reaction to STAFF_REPLIED). The first one is the
    first response: it keeps the deadline and moves the dispute from open to in progress."""
    text = clean_text(body, required=True)
    locked = _locked_open(session, dispute)
    message = add_message(session, None, locked, author="staff", body=text, staff_id=staff.id)
    first = locked.first_responded_at is None
    if first:
        locked.first_responded_at = message.created_at
    if locked.status == "open":
        locked.status = "in_progress"
    emit(
        session,
        dispute_events.about_dispute(
            dispute_events.STAFF_REPLIED, locked, actor, message_id=message.id, first_response=first
        ),
    )
    return message


def add_note(session: Session, dispute: Dispute, staff: StaffUser, body: str | None, *, actor: Actor) -> DisputeMessage:
    """An internal note: staff's only. It is no answer, so it changes neither the status nor the first response."""
    text = clean_text(body, required=True)
    locked = _locked_open(session, dispute)
    message = add_message(session, None, locked, author="staff", body=text, staff_id=staff.id, internal=True)
    emit(session, dispute_events.about_dispute(dispute_events.NOTE_ADDED, locked, actor, message_id=message.id))
    return message


def assign(
    session: Session,
    dispute: Dispute,
    staff: StaffUser | None,
    *,
    actor: Actor,
    drawn_at: datetime | None = None,
) -> Dispute:
    """Give the dispute to ``staff`` (None: to nobody). ``drawn_at`` is the ``updated_at`` of the page the choice
    was made on; when the dispute changed since, "changed_meanwhile" and nothing changes."""
    locked = _locked_open(session, dispute)
    if drawn_at is not None and _moment(locked.updated_at) != _moment(drawn_at):
        raise DisputeProblem("changed_meanwhile")
    if staff is not None and not may_handle(staff):
        raise DisputeProblem("not_staff")
    locked.assigned_to_id = staff.id if staff is not None else None
    locked.assigned_to = staff
    locked.updated_at = clock.now()
    emit(
        session,
        dispute_events.about_dispute(
            dispute_events.ASSIGNED, locked, actor, assigned_to=staff.name if staff is not None else None
        ),
    )
    return locked


def _moment(at: datetime) -> str:
    # To the microsecond, in UTC: how a form carries it (drawn_text) and how it is compared.
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def drawn_text(dispute: Dispute) -> str:
    """The dispute's ``updated_at`` as the assign form carries it, hidden."""
    return _moment(dispute.updated_at)
