"""Helpers for the tests of how a dispute ends: a fixed moment, staff members, the credit note limit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.disputes.models import CreditNote, Dispute
from portal.events.models import DomainEvent
from portal.settings.dispute_settings import DISPUTE_SUPERVISOR_CREDIT_ABOVE_KEY
from portal.settings.services import set_settings
from tests.fixtures.factories import TEST_ACTOR

# A Wednesday morning: 11:00 in Amsterdam, the same local date.
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def set_credit_limit(session: Session, cents: int) -> None:
    set_settings(session, {DISPUTE_SUPERVISOR_CREDIT_ABOVE_KEY: cents}, actor=TEST_ACTOR)
    session.commit()


def notes_of(session: Session, dispute: Dispute) -> list[CreditNote]:
    return list(session.scalars(select(CreditNote).where(CreditNote.dispute_id == dispute.id).order_by(CreditNote.id)))


def events_of(session: Session, kind: str, subject_type: str, subject_id: Any) -> list[DomainEvent]:
    return list(
        session.scalars(
            select(DomainEvent).where(
                DomainEvent.kind == kind,
                DomainEvent.subject_type == subject_type,
                DomainEvent.subject_id == str(subject_id),
            )
        )
    )
