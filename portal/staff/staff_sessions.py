"""Server-side staff sessions: one row per log-in, so a session can be ended where it matters, on the server.

The cookie holds a random token; the database holds only its SHA-256, so the table alone gives nobody a
session. Like the other services, nothing here reads Flask's request globals.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import clock
from portal.staff.models import StaffSession, StaffUser


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, staff: StaffUser) -> str:
    """A new live session for ``staff``; returns the token for the cookie (shown nowhere else)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(StaffSession(token_hash=_hash(token), staff_id=staff.id, created_at=now, last_seen_at=now))
    session.flush()
    return token


def live_session(session: Session, token: str | None, staff_id: int) -> StaffSession | None:
    """The session this token names, if it belongs to ``staff_id`` and has not ended."""
    if not token:
        return None
    row = session.scalars(select(StaffSession).where(StaffSession.token_hash == _hash(token))).one_or_none()
    if row is None or row.ended_at is not None or row.staff_id != staff_id:
        return None
    return row


def end_session(session: Session, token: str | None, *, reason: str, at: datetime | None = None) -> None:
    """End the session this token names (nothing when there is none or it already ended)."""
    if not token:
        return
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _hash(token), StaffSession.ended_at.is_(None))
        .values(ended_at=at or clock.now(), ended_reason=reason)
    )


def end_all_sessions(session: Session, staff: StaffUser, *, reason: str, keep: str | None = None) -> int:
    """End every live session of ``staff`` except the one ``keep`` names; returns how many ended."""
    statement = update(StaffSession).where(StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))
    if keep:
        statement = statement.where(StaffSession.token_hash != _hash(keep))
    result = session.execute(statement.values(ended_at=clock.now(), ended_reason=reason))
    return int(result.rowcount)  # type: ignore[attr-defined]
