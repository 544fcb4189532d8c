"""Mandates, collection schedules and the debits they lead to. Money is integer cents; a period is "YYYY-MM".

A debit row exists from the moment its pre-notification is written: from then on its date is what the
debtor was told. Periods further ahead are computed from the schedule and have no row yet. The unique
(schedule, period) pair is what makes sure no period is ever collected twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.customers.models import Customer
from portal.db import Base, UTCDateTime
from portal.invoices.models import Invoice
from portal.payments.models import Payment

MANDATE_STATES = ("active", "revoked", "expired")
# Who collects on a mandate: the creditor's own bank (pain.008 files), a provider that holds the mandate, or
# the demo collector of ``make run``.
COLLECTORS = ("bank", "mollie", "stripe", "demo")
DEBIT_STATES = ("notified", "submitted", "collected", "failed", "skipped", "cancelled")


def mask_iban(iban: str) -> str:
    """NL91 **** **** **43 00 -> how an IBAN is always shown: country and check digits, and the last four."""
    compact = iban.replace(" ", "").upper()
    if len(compact) < 8:
        return "****"
    return f"{compact[:4]} **** {compact[-4:]}"


class Mandate(Base):
    """A SEPA Core mandate: the debtor's permission to collect, identified by its UMR (unique per creditor)."""

    __tablename__ = "mandates"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'revoked', 'expired')", name="status"),
        CheckConstraint("collector IN ('bank', 'mollie', 'stripe', 'demo')", name="collector"),
        Index("ix_mandates_customer_status", "customer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    reference: Mapped[str] = mapped_column(String(35), unique=True)  # the UMR
    signed_on: Mapped[date] = mapped_column(Date)
    debtor_name: Mapped[str] = mapped_column(String(70))
    # Validated and compact; shown only through ``masked_iban``. Empty for a mandate a provider holds without
    # telling us the IBAN (Stripe): ``account_hint`` says which account it is, and only the provider collects.
    iban: Mapped[str] = mapped_column(String(34))
    account_hint: Mapped[str | None] = mapped_column(String(20))
    bic: Mapped[str | None] = mapped_column(String(11))
    status: Mapped[str] = mapped_column(String(10), default="active")
    collector: Mapped[str] = mapped_column(String(10), default="bank")
    provider_mandate_id: Mapped[str | None] = mapped_column(String(64))  # the provider's id where it holds it
    # A mandate unused for 36 months expires (SEPA rulebook): the date of its last collection counts.
    last_collected_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()

    @property
    def masked_iban(self) -> str:
        return mask_iban(self.iban) if self.iban else (self.account_hint or "****")


class ProviderCustomer(Base):
    """The one customer record a provider keeps for one of our customers (mandates hang on it)."""

    __tablename__ = "provider_customers"
    __table_args__ = (
        UniqueConstraint("customer_id", "provider", name="uq_provider_customers_customer_provider"),
        UniqueConstraint("provider", "external_id", name="uq_provider_customers_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    provider: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class DebitSchedule(Base):
    """Collect ``amount_cents`` every calendar month on ``day_of_month``, from ``first_period`` on.

    Each period's debit collects the invoice the billing system issued for that period (its period_start
    falls in that month), such as an energy supplier's monthly advance invoice.
    """

    __tablename__ = "debit_schedules"
    __table_args__ = (
        CheckConstraint("day_of_month BETWEEN 1 AND 31", name="day_of_month"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("last_period IS NULL OR first_period <= last_period", name="period_order"),
        Index("ix_debit_schedules_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    mandate_id: Mapped[int] = mapped_column(ForeignKey("mandates.id", ondelete="RESTRICT"))
    day_of_month: Mapped[int]
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    first_period: Mapped[str] = mapped_column(String(7))
    last_period: Mapped[str | None] = mapped_column(String(7))
    # Set when the mandate is revoked or the contract ends: no period after ``last_period`` is collected.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    customer: Mapped[Customer] = relationship()
    mandate: Mapped[Mandate] = relationship()
    debits: Mapped[list[Debit]] = relationship(order_by="Debit.period", back_populates="schedule")


class Debit(Base):
    """One period's collection, from its pre-notification on. ``due_on`` is the date the debtor was told."""

    __tablename__ = "debits"
    __table_args__ = (
        CheckConstraint(
            "state IN ('notified', 'submitted', 'collected', 'failed', 'skipped', 'cancelled')", name="state"
        ),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        UniqueConstraint("schedule_id", "period", name="uq_debits_schedule_period"),
        Index("ix_debits_state_due", "state", "due_on"),
        Index("ix_debits_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("debit_schedules.id", ondelete="RESTRICT"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    period: Mapped[str] = mapped_column(String(7))
    due_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    state: Mapped[str] = mapped_column(String(10), default="notified")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    attempt: Mapped[int] = mapped_column(default=1)  # a retry after a failure is the same period's debit again
    failure_code: Mapped[str | None] = mapped_column(String(8))  # the bank's reason code (AM04, MD06, ...)
    # Dunning waits until then after a failure (the grace period in force when it failed).
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the debtor chose after a failure: "pay_now", "retry", "dispute" or "new_mandate", with its details.
    choice: Mapped[str | None] = mapped_column(String(20))
    choice_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    chosen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    schedule: Mapped[DebitSchedule] = relationship(back_populates="debits")
    customer: Mapped[Customer] = relationship()
    invoice: Mapped[Invoice | None] = relationship()
    payment: Mapped[Payment | None] = relationship()

    @property
    def end_to_end_id(self) -> str:
        """The id the bank carries through the pain.008 file and its returns: debit and attempt."""
        return f"D{self.id:08d}-{self.attempt}"


class DayChange(Base):
    """A change of a schedule's collection day; at most a few in any twelve months (a setting)."""

    __tablename__ = "debit_day_changes"
    __table_args__ = (Index("ix_debit_day_changes_schedule_time", "schedule_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("debit_schedules.id", ondelete="CASCADE"))
    from_day: Mapped[int]
    to_day: Mapped[int]
    changed_by: Mapped[str] = mapped_column(String(254))  # "debtor", or a staff member's address
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ProofCode(Base):
    """A six-digit code e-mailed to the address on file: the second proof a change of debit details needs."""

    __tablename__ = "proof_codes"
    __table_args__ = (Index("ix_proof_codes_customer_purpose", "customer_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(40))  # e.g. "debits.change_day"
    code_hash: Mapped[str] = mapped_column(String(128))
    # What the code confirms (the new day), so a code asked for one change cannot confirm another.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class DebitReturn(Base):
    """A return (R-transaction) read from the bank's file, recorded once: a file read twice changes nothing."""

    __tablename__ = "debit_returns"
    __table_args__ = (UniqueConstraint("source_id", name="uq_debit_returns_source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The bank's own id of the return, or the end-to-end id with the reason when the file has none.
    source_id: Mapped[str] = mapped_column(String(120))
    debit_id: Mapped[int | None] = mapped_column(ForeignKey("debits.id", ondelete="RESTRICT"))
    end_to_end_id: Mapped[str] = mapped_column(String(35))
    reason_code: Mapped[str] = mapped_column(String(8))
    amount_cents: Mapped[int]
    file_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class DebitSwitch(Base):
    """A customer switching to direct debit: the day they chose, kept with the first payment that makes the
    mandate. Once that payment is paid, ``mandate_id`` names the mandate it became (only ever one)."""

    __tablename__ = "debit_switches"
    __table_args__ = (
        CheckConstraint("day_of_month BETWEEN 1 AND 31", name="day_of_month"),
        UniqueConstraint("payment_id", name="uq_debit_switches_payment_id"),
        Index("ix_debit_switches_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    day_of_month: Mapped[int]
    mandate_id: Mapped[int | None] = mapped_column(ForeignKey("mandates.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    payment: Mapped[Payment] = relationship()
    mandate: Mapped[Mandate | None] = relationship()


class BankFile(Base):
    """A pain.008 file handed to staff (page or CLI): which debits it held, so the page can say whether the file
    of a date was downloaded, and whether debits were added to that date since."""

    __tablename__ = "debit_bank_files"
    __table_args__ = (Index("ix_debit_bank_files_date", "collection_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_date: Mapped[date] = mapped_column(Date)
    message_id: Mapped[str] = mapped_column(String(35))  # the file's MsgId, as the bank will quote it
    debit_count: Mapped[int]
    total_cents: Mapped[int]
    end_to_end_ids: Mapped[list[str]] = mapped_column(JSON)
    downloaded_by: Mapped[str] = mapped_column(String(254))  # a staff member's address, or "cli"
    downloaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
