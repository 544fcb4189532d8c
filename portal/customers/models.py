from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import Base, UTCDateTime

if TYPE_CHECKING:
    from portal.staff.models import StaffUser


class Customer(Base):
    """A debtor: a consumer or a business that receives invoices from the creditor."""

    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("kind IN ('consumer', 'business')", name="kind"),
        CheckConstraint("language IN ('nl', 'en')", name="language"),
        # Staff search by name is case-insensitive and starts at the beginning of a word.
        Index("ix_customers_name_lower", func.lower("name")),
        # The fresh-link request matches the address on file whatever its case.
        Index("ix_customers_email_lower", func.lower("email")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2), default="nl")
    kind: Mapped[str] = mapped_column(String(10), default="consumer")
    country: Mapped[str] = mapped_column(String(2), default="NL")
    street: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(100))
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    @property
    def address_lines(self) -> list[str]:
        city_line = " ".join(part for part in (self.postal_code, self.city) if part)
        return [line for line in (self.street, city_line) if line]


class CustomerNote(Base):
    """A note staff keep on a customer's story. Notes are never edited; a correction is a new note."""

    __tablename__ = "customer_notes"
    __table_args__ = (Index("ix_customer_notes_customer_time", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    author: Mapped[StaffUser] = relationship()
