"""Payment plans, their instalments and the debtor's consent; promises to pay; requests to be called back.

Money is integer cents. A plan covers invoices with what was owed on each when it was agreed; what has been
paid towards the plan is what has been paid on those invoices since (``PlanInvoice.paid_before_cents``), by
whatever route: an instalment paid in the portal, a transfer, a direct debit. So an instalment is paid when
the money paid towards the plan reaches the sum of the instalments up to and including it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.customers.models import Customer
from portal.db import Base, UTCDateTime
from portal.invoices.models import Invoice

# proposed: waiting for staff. countered: staff proposed something else, waiting for the debtor.
# active: agreed, instalments running. completed: all paid. lapsed: an instalment stayed unpaid past the grace
# period, so the rest is due. rejected / declined: staff said no / the debtor said no to a counter-proposal.
# cancelled: ended before it began (the invoices were paid or cancelled meanwhile).
PLAN_STATES = ("proposed", "countered", "active", "completed", "lapsed", "rejected", "declined", "cancelled")
OPEN_PLAN_STATES = ("proposed", "countered", "active")
PROMISE_STATES = ("open", "kept", "broken", "cancelled")
PLAN_METHODS = ("portal", "direct_debit")


def _states_check(column: str, states: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(state) for state in states)})"


class PaymentPlan(Base):
    __tablename__ = "payment_plans"
    __table_args__ = (
        CheckConstraint(_states_check("status", PLAN_STATES), name="status"),
        CheckConstraint("every IN ('month', '2weeks')", name="every"),
        CheckConstraint("customer_kind IN ('consumer', 'business')", name="customer_kind"),
        CheckConstraint("method IN ('portal', 'direct_debit')", name="method"),
        CheckConstraint("instalment_count >= 1", name="instalment_count_positive"),
        CheckConstraint("total_cents > 0", name="total_positive"),
        Index("ix_payment_plans_customer_status", "customer_id", "status"),
        Index("ix_payment_plans_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    total_cents: Mapped[int]
    instalment_count: Mapped[int]
    every: Mapped[str] = mapped_column(String(6))
    first_due_on: Mapped[date] = mapped_column(Date)
    customer_kind: Mapped[str] = mapped_column(String(10))
    # How the instalments are paid: in the portal (or by transfer), or collected on the customer's mandate.
    method: Mapped[str] = mapped_column(String(12), default="portal")
    # What the policy said about the debtor's own proposal: None inside it, else the code (rules.REASONS).
    policy_reason: Mapped[str | None] = mapped_column(String(40))
    # The debtor's words and, if they gave it, a short budget ({"income": cents, "expenses": cents}).
    debtor_reason: Mapped[str | None] = mapped_column(Text)
    budget: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # By when staff answer a proposal outside the policy (business days, the debtor is told this date).
    answer_by: Mapped[date | None] = mapped_column(Date)
    # Staff's counter-proposal replaces the schedule on this row; the debtor's own is kept here for the story.
    proposed_schedule: Mapped[list[Any] | None] = mapped_column(JSON)
    decided_by: Mapped[str | None] = mapped_column(String(254))  # staff e-mail, or "policy" when approved at once
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)  # the reason of a rejection, shown to the debtor
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The terms agreed, as the settings said when the debtor agreed: a later change of policy never changes a
    # running plan's grace period or interest (the agreement names both).
    grace_days: Mapped[int | None]
    interest: Mapped[str | None] = mapped_column(String(10))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    customer: Mapped[Customer] = relationship()
    invoices: Mapped[list[PlanInvoice]] = relationship(
        order_by="PlanInvoice.position", cascade="all, delete-orphan", back_populates="plan"
    )
    instalments: Mapped[list[PlanInstalment]] = relationship(
        order_by="PlanInstalment.number", cascade="all, delete-orphan", back_populates="plan"
    )
    # Every consent, kept as evidence: to the debtor's own proposal and, after a counter-proposal, to ours.
    consents: Mapped[list[PlanConsent]] = relationship(
        order_by="PlanConsent.id", back_populates="plan", cascade="all, delete-orphan"
    )

    @property
    def consent(self) -> PlanConsent | None:
        """The consent to the plan as it stands (the latest)."""
        return self.consents[-1] if self.consents else None

    @property
    def reference(self) -> str:
        """How debtors and staff refer to a plan in e-mails, on the phone and on the PDF."""
        return f"R{self.id:06d}"


class PlanInvoice(Base):
    """An invoice a plan covers, with what was owed on it and what had been paid on it when the plan began."""

    __tablename__ = "plan_invoices"
    __table_args__ = (Index("ix_plan_invoices_invoice", "invoice_id"),)

    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id", ondelete="CASCADE"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), primary_key=True)
    position: Mapped[int]
    outstanding_cents: Mapped[int]
    paid_before_cents: Mapped[int]

    plan: Mapped[PaymentPlan] = relationship(back_populates="invoices")
    invoice: Mapped[Invoice] = relationship()


class PlanInstalment(Base):
    __tablename__ = "plan_instalments"
    __table_args__ = (
        UniqueConstraint("plan_id", "number", name="uq_plan_instalments_plan_number"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_plan_instalments_due", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1, 2, ...
    due_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int]
    # Set once, so the job that sends them can run as often as it likes.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a few days before it is due
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # it was due and not paid: one reminder
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The direct debit that collects it, on a plan paid by direct debit: one payment per instalment, ever.
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"), unique=True)

    plan: Mapped[PaymentPlan] = relationship(back_populates="instalments")


class PlanConsent(Base):
    """The debtor's agreement as evidence: when, from where, with which browser, to exactly which text."""

    __tablename__ = "plan_consents"
    __table_args__ = (
        CheckConstraint("purpose IN ('proposal', 'counter')", name="purpose"),
        Index("ix_plan_consents_plan", "plan_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id", ondelete="CASCADE"))
    # To the debtor's own proposal, or to the schedule staff offered instead.
    purpose: Mapped[str] = mapped_column(String(10), default="proposal")
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    locale: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(Text)  # the agreement exactly as shown
    text_sha256: Mapped[str] = mapped_column(String(64))
    # {setting key: version} of the plan settings in force when the debtor agreed (0: the default).
    settings_versions: Mapped[dict[str, int]] = mapped_column(JSON)

    plan: Mapped[PaymentPlan] = relationship(back_populates="consents")


class PaymentPromise(Base):
    """ "I will pay everything by this date": open until then; kept when the invoices are paid, else broken."""

    __tablename__ = "payment_promises"
    __table_args__ = (
        CheckConstraint(_states_check("status", PROMISE_STATES), name="status"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_payment_promises_customer_status", "customer_id", "status"),
        Index("ix_payment_promises_status_promised", "status", "promised_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    promised_on: Mapped[date] = mapped_column(Date)  # the customer's local date, the last day to pay
    # The end of that day where the customer lives, in UTC: dunning stays paused until this moment.
    holds_until: Mapped[datetime] = mapped_column(UTCDateTime)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    amount_cents: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    invoices: Mapped[list[PromiseInvoice]] = relationship(cascade="all, delete-orphan", back_populates="promise")

    @property
    def open_cents(self) -> int:
        """What of the promise is still to pay: its invoices' open amounts now (a part may be paid already)."""
        return sum(covered.invoice.outstanding_cents for covered in self.invoices if covered.invoice.state == "open")


class PromiseInvoice(Base):
    __tablename__ = "promise_invoices"
    __table_args__ = (Index("ix_promise_invoices_invoice", "invoice_id"),)

    promise_id: Mapped[int] = mapped_column(ForeignKey("payment_promises.id", ondelete="CASCADE"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), primary_key=True)
    outstanding_cents: Mapped[int]

    promise: Mapped[PaymentPromise] = relationship(back_populates="invoices")
    invoice: Mapped[Invoice] = relationship()


class CallbackRequest(Base):
    """A debtor who cannot pay and asked to be phoned: staff see these until someone has called."""

    __tablename__ = "callback_requests"
    __table_args__ = (Index("ix_callback_requests_handled_created", "handled_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    phone: Mapped[str] = mapped_column(String(32))
    preferred_time: Mapped[str | None] = mapped_column(String(20))  # "morning", "afternoon", "evening"
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by: Mapped[str | None] = mapped_column(String(254))

    customer: Mapped[Customer] = relationship()
