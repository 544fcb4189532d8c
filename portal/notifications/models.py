from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import Base, UTCDateTime

MESSAGE_STATES = ("queued", "sending", "sent", "failed", "held")


class OutboxMessage(Base):
    """A message to a person, written in the same transaction as the change that causes it.

    queued -> sending (claimed by one worker until ``claimed_until``) -> sent, or back to queued with a
    later ``next_attempt_at`` after a temporary failure, or failed after the last attempt. "held" means no
    transport is configured (the demo): the message is kept, rendered, for staff to read.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'sending', 'sent', 'failed', 'held')", name="state"),
        CheckConstraint("channel IN ('email', 'sms', 'letter')", name="channel"),
        Index("ix_outbox_messages_due", "state", "next_attempt_at"),
        Index("ix_outbox_messages_customer_time", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), default="email")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The last attempt found the mail server not answering: try again as soon as it answers (delivery.py).
    waiting_for_transport: Mapped[bool] = mapped_column(default=False, server_default=false())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Parts of the body that must not outlive delivery (a personal link's token): removed once sent.
    secrets_to_redact: Mapped[list[str]] = mapped_column(JSON, default=list)

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        order_by="OutboxAttachment.id", cascade="all, delete-orphan"
    )


class OutboxAttachment(Base):
    """A file sent with a message (the written agreement of a payment plan), stored with it: delivery, a retry
    and the staff's copy all send and show the same bytes."""

    __tablename__ = "outbox_attachments"
    __table_args__ = (Index("ix_outbox_attachments_message", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(80))
    content: Mapped[bytes] = mapped_column(LargeBinary)
