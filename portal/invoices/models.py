from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ColumnElement, Date, ForeignKey, Index, Numeric, String, and_, case
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.customers.models import Customer
from portal.db import Base, UTCDateTime

INVOICE_STATES = ("open", "paid", "cancelled")


class Invoice(Base):
    """An invoice as the creditor's billing system issued it. Amounts are integer cents."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'paid', 'cancelled')", name="state"),
        CheckConstraint("total_cents = subtotal_cents + vat_cents", name="total_adds_up"),
        CheckConstraint("period_end IS NULL OR period_start <= period_end", name="period_order"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        CheckConstraint("paid_cents >= 0", name="paid_not_negative"),
        CheckConstraint("credited_cents >= 0 AND credited_cents <= total_cents", name="credited_range"),
        Index("ix_invoices_customer_state_due", "customer_id", "state", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    # What kind of invoice this is (e.g. "energy-monthly"), so an amount is compared with like.
    category: Mapped[str] = mapped_column(String(40), default="general")
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    subtotal_cents: Mapped[int]
    vat_cents: Mapped[int]
    total_cents: Mapped[int]
    state: Mapped[str] = mapped_column(String(10), default="open")
    # Paid so far. The full total once paid; an import that lowers a total can leave more here than owed.
    paid_cents: Mapped[int] = mapped_column(default=0)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Lowered by credit notes (portal.disputes): the sum of the invoice's credit notes, never above its total.
    credited_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    customer: Mapped[Customer] = relationship()

    @hybrid_property
    def outstanding_cents(self) -> int:
        """What is still owed: nothing once paid or cancelled, else the total less part-payments and credit notes
        (never below 0).

        The one definition, in Python here and in SQL below; the account view (portal.accounts) builds every
        sum of what is owed from it.
        """
        return max(self.total_cents - self.credited_cents - self.paid_cents, 0) if self.state == "open" else 0

    @outstanding_cents.inplace.expression
    @classmethod
    def _outstanding_cents_sql(cls) -> ColumnElement[int]:
        return case(
            (
                and_(cls.state == "open", cls.total_cents - cls.credited_cents > cls.paid_cents),
                cls.total_cents - cls.credited_cents - cls.paid_cents,
            ),
            else_=0,
        )

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position", cascade="all, delete-orphan"
    )
    vat_totals: Mapped[list[InvoiceVatTotal]] = relationship(
        order_by="InvoiceVatTotal.rate", cascade="all, delete-orphan"
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (CheckConstraint("vat_rate >= 0 AND vat_rate < 100", name="vat_rate_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    unit: Mapped[str] = mapped_column(String(20))
    # Unit prices can have sub-cent precision (energy per kWh), so they are a Decimal in currency units.
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 5))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    amount_cents: Mapped[int]

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceVatTotal(Base):
    """VAT per rate, as printed on the invoice (the billing system's rounding is authoritative)."""

    __tablename__ = "invoice_vat_totals"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), primary_key=True)
    base_cents: Mapped[int]
    vat_cents: Mapped[int]
