"""Disputes: a debtor's "something is wrong" about invoices or lines of them, the conversation that follows,
its files, and how it ended (a credit note, a corrected invoice, or a rejection with a new due date).

Money is integer cents. What a dispute holds on an invoice (``DisputeInvoice.held_cents``) is the part the
debtor disputes: the amounts of the lines they chose, or what was owed on the whole invoice when they opened
it. That part is paused for dunning and is not asked for on the pay page; the rest can be paid.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.customers.models import Customer
from portal.db import Base, UTCDateTime
from portal.invoices.models import Invoice, InvoiceLine
from portal.staff.models import StaffUser

DISPUTE_REASONS = ("amount_wrong", "not_received", "already_paid", "service_complaint", "contract_ended", "other")
# open: waiting for staff's first answer. in_progress: staff answered, no outcome yet. resolved: an outcome.
# withdrawn: the debtor took it back.
DISPUTE_STATES = ("open", "in_progress", "resolved", "withdrawn")
OPEN_DISPUTE_STATES = ("open", "in_progress")
OUTCOMES = ("credit_note", "corrected_invoice", "rejected")
AUTHORS = ("debtor", "staff")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (
        CheckConstraint(_in("reason", DISPUTE_REASONS), name="reason"),
        CheckConstraint(_in("status", DISPUTE_STATES), name="status"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', OUTCOMES)}", name="outcome"),
        CheckConstraint("held_cents >= 0", name="held_not_negative"),
        Index("ix_disputes_customer_status", "customer_id", "status"),
        Index("ix_disputes_status_deadline", "status", "resolution_due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # "D-000123": what the debtor quotes
    reason: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="open")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    held_cents: Mapped[int]  # the amount at stake: the sum of what it holds on its invoices
    # Deadlines in business days from the day it was opened, where the customer lives (the settings then).
    first_response_due_on: Mapped[date] = mapped_column(Date)
    resolution_due_on: Mapped[date] = mapped_column(Date)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Each deadline's breach is told to the supervisors once: these say it was.
    first_response_breach_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_breach_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An earlier dispute of the same customer for the same reason: a repeat complaint (a priority in the queue).
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id", ondelete="SET NULL"))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_note: Mapped[str | None] = mapped_column(Text)  # the reasons, as the debtor is told them
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # A rejection gives a new due date: dunning stays paused until the end of that day where the customer lives.
    new_due_on: Mapped[date | None] = mapped_column(Date)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    corrected_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    customer: Mapped[Customer] = relationship()
    assigned_to: Mapped[StaffUser | None] = relationship(foreign_keys=[assigned_to_id])
    resolved_by: Mapped[StaffUser | None] = relationship(foreign_keys=[resolved_by_id])
    corrected_invoice: Mapped[Invoice | None] = relationship(foreign_keys=[corrected_invoice_id])
    invoices: Mapped[list[DisputeInvoice]] = relationship(
        back_populates="dispute", order_by="DisputeInvoice.id", cascade="all, delete-orphan"
    )
    lines: Mapped[list[DisputeLine]] = relationship(order_by="DisputeLine.id", cascade="all, delete-orphan")
    messages: Mapped[list[DisputeMessage]] = relationship(
        back_populates="dispute", order_by="DisputeMessage.id", cascade="all, delete-orphan"
    )
    files: Mapped[list[DisputeFile]] = relationship(order_by="DisputeFile.id", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_DISPUTE_STATES


class DisputeInvoice(Base):
    """An invoice a dispute is about, and the part of it on hold (``held_cents``)."""

    __tablename__ = "dispute_invoices"
    __table_args__ = (
        UniqueConstraint("dispute_id", "invoice_id"),
        CheckConstraint("held_cents >= 0", name="held_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), index=True)
    whole: Mapped[bool]  # the whole invoice, not some of its lines
    held_cents: Mapped[int]

    dispute: Mapped[Dispute] = relationship(back_populates="invoices")
    invoice: Mapped[Invoice] = relationship()

    @property
    def has_rest(self) -> bool:
        """Whether some of the invoice may be paid now: it owes more than this question holds."""
        return self.invoice.outstanding_cents > self.held_cents


class DisputeLine(Base):
    __tablename__ = "dispute_lines"
    __table_args__ = (UniqueConstraint("dispute_id", "invoice_line_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"))
    invoice_line_id: Mapped[int] = mapped_column(ForeignKey("invoice_lines.id", ondelete="RESTRICT"))

    line: Mapped[InvoiceLine] = relationship()


class DisputeMessage(Base):
    """One turn of the conversation. An internal note (``internal``) is staff's only: the debtor never sees it."""

    __tablename__ = "dispute_messages"
    __table_args__ = (
        CheckConstraint(_in("author", AUTHORS), name="author"),
        CheckConstraint("author = 'staff' OR NOT internal", name="only_staff_notes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(6))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    internal: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    dispute: Mapped[Dispute] = relationship(back_populates="messages")
    staff: Mapped[StaffUser | None] = relationship()
    files: Mapped[list[DisputeFile]] = relationship(
        back_populates="message", order_by="DisputeFile.id", overlaps="files"
    )


class DisputeFile(Base):
    """A file the debtor or staff attached, kept in the file store under a random key (never its name)."""

    __tablename__ = "dispute_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("dispute_messages.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    filename: Mapped[str] = mapped_column(String(120))  # cleaned (uploads.safe_filename), for the download only
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    message: Mapped[DisputeMessage] = relationship(back_populates="files", overlaps="files")


class CreditNote(Base):
    """A document that lowers what is owed on an invoice (``Invoice.credited_cents`` is the sum of its notes)."""

    __tablename__ = "credit_notes"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), index=True)
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id", ondelete="SET NULL"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_cents: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    invoice: Mapped[Invoice] = relationship()
    issued_by: Mapped[StaffUser | None] = relationship()
