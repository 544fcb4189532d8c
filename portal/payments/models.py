"""Payments, what they were meant for, where the money went, and what was taken back.

One Payment is one attempt at the provider: a checkout the debtor may or may not complete. Its
``state`` moves only through ``portal.payments.states.transition``. Money is integer cents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.customers.models import Customer
from portal.db import Base, UTCDateTime
from portal.invoices.models import Invoice


def payment_reference(payment_id: int) -> str:
    """How debtors and staff refer to a payment in e-mails, pages and on the phone."""
    return f"P{payment_id:07d}"


PAYMENT_STATES = ("created", "open", "pending", "paid", "failed", "cancelled", "expired")


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(
            "state IN ('created', 'open', 'pending', 'paid', 'failed', 'cancelled', 'expired')", name="state"
        ),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("received_cents >= 0 AND reversed_cents >= 0", name="received_not_negative"),
        CheckConstraint("unallocated_cents >= 0", name="unallocated_not_negative"),
        UniqueConstraint("provider", "external_id", name="uq_payments_provider_external_id"),
        Index("ix_payments_customer_created", "customer_id", "created_at"),
        Index("ix_payments_provider_secondary", "provider", "secondary_reference"),
        Index("ix_payments_state_synced", "state", "synced_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # In the debtor's return address instead of the id, so addresses cannot be counted through.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    provider: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(10), default="created")
    currency: Mapped[str] = mapped_column(String(3))
    amount_cents: Mapped[int]  # what the debtor set out to pay, computed on the server
    received_cents: Mapped[int] = mapped_column(default=0)  # what the provider says it collected
    reversed_cents: Mapped[int] = mapped_column(default=0)  # refunds and chargebacks, together
    unallocated_cents: Mapped[int] = mapped_column(default=0)  # received but owed on no invoice: a credit
    external_id: Mapped[str | None] = mapped_column(String(64))
    secondary_reference: Mapped[str | None] = mapped_column(String(64))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    mandate_reference: Mapped[str | None] = mapped_column(String(64))
    # The account a first payment came from, as the provider reports it: the new mandate's IBAN.
    payer_iban: Mapped[str | None] = mapped_column(String(34))
    # Or only its country and last four digits, where the provider keeps the IBAN to itself (Stripe).
    payer_account_hint: Mapped[str | None] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(2), default="nl")
    # A refund sent to the provider whose answer we have not seen: a retry sends the same key, so it
    # cannot refund twice, whatever happened to the first attempt.
    refund_pending_key: Mapped[str | None] = mapped_column(String(80))
    refund_pending_cents: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    items: Mapped[list[PaymentItem]] = relationship(
        order_by="PaymentItem.position", cascade="all, delete-orphan", back_populates="payment"
    )
    allocations: Mapped[list[PaymentAllocation]] = relationship(
        order_by="PaymentAllocation.id", cascade="all, delete-orphan", back_populates="payment"
    )
    reversals: Mapped[list[PaymentReversal]] = relationship(
        order_by="PaymentReversal.id", cascade="all, delete-orphan", back_populates="payment"
    )

    @property
    def reference(self) -> str:
        """How debtors and staff refer to the payment in e-mails and on the phone."""
        return payment_reference(self.id)

    @property
    def is_final(self) -> bool:
        return self.state in ("paid", "failed", "cancelled", "expired")

    @property
    def refundable_cents(self) -> int:
        return self.received_cents - self.reversed_cents if self.state == "paid" else 0

    @property
    def shortfall_cents(self) -> int:
        """Paid less than asked (a provider that collected a different amount)."""
        return max(self.amount_cents - self.received_cents, 0) if self.state == "paid" else 0


class PaymentItem(Base):
    """An invoice the debtor chose to pay with this payment, in the order the money goes to them."""

    __tablename__ = "payment_items"

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), primary_key=True)
    position: Mapped[int]
    # What was still owed on the invoice when the payment started (it can change before the money arrives).
    outstanding_cents: Mapped[int]

    payment: Mapped[Payment] = relationship(back_populates="items")
    invoice: Mapped[Invoice] = relationship()


class PaymentAllocation(Base):
    """Money moved onto an invoice (positive) or taken off it again by a reversal (negative)."""

    __tablename__ = "payment_allocations"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        Index("ix_payment_allocations_invoice", "invoice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("payment_reversals.id", ondelete="CASCADE"))
    amount_cents: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    invoice: Mapped[Invoice] = relationship()
    reversal: Mapped[PaymentReversal | None] = relationship()


class PaymentReversal(Base):
    """A refund or chargeback, recorded once per provider id whoever reports it first."""

    __tablename__ = "payment_reversals"
    __table_args__ = (
        CheckConstraint("kind IN ('refund', 'chargeback')", name="kind"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        UniqueConstraint("payment_id", "external_id", name="uq_payment_reversals_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    amount_cents: Mapped[int]
    # Who started it: a staff e-mail address for refunds from the staff area, else the provider.
    initiated_by: Mapped[str | None] = mapped_column(String(254))
    # The refund form's own key: the same form sent twice is one refund.
    request_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The provider gave the money back after all (a refund that failed, a dispute won, a chargeback reversed):
    # the row stays, so the same reversal is never counted again, but it no longer takes anything back.
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    payment: Mapped[Payment] = relationship(back_populates="reversals")


class DemoCheckout(Base):
    """The demo provider's own record of a checkout: it plays the provider, so it keeps the provider's state."""

    __tablename__ = "demo_checkouts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    payment_id: Mapped[int]
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200))
    return_url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")
    # "Pending, then paid": the checkout turns paid by itself at this moment.
    settles_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # [[refund id, cents], ...]: what the demo provider reports back as refunds.
    refunds: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
