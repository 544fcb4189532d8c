"""The domain event log: one append-only row per thing that happened to a customer's account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal import clock
from portal.db import Base, UTCDateTime


class DomainEvent(Base):
    """What happened, to whom, by whom, when. The database refuses UPDATE and DELETE on this table.

    ``payload`` holds the facts as they were at the time (amounts, invoice numbers, a note's text), never
    translated text: presenters turn an event into words in the reader's language when it is read.
    """

    __tablename__ = "domain_events"
    __table_args__ = (
        Index("ix_domain_events_customer_time", "customer_id", "occurred_at"),
        # A customer's events of a few kinds (their refunds and chargebacks, on every overview) without reading
        # all their others: every page view is an event too, so those grow with each visit.
        Index("ix_domain_events_customer_kind", "customer_id", "kind"),
        Index("ix_domain_events_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    schema_version: Mapped[int] = mapped_column(default=1)
    # No foreign key, as for the audit trail: the record of what happened outlives what it is about.
    customer_id: Mapped[int | None]
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(254))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
