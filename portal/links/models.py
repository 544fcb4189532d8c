from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.customers.models import Customer
from portal.db import Base, UTCDateTime


class PortalLink(Base):
    """A personal link. Only the SHA-256 of its token is stored; the token itself is shown once."""

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who made it: "cli", "demo", "debtor-request" (asked for on the "link does not work" page: the next such
    # request revokes it, so one fresh link per customer works at a time), later a staff e-mail.
    created_by: Mapped[str] = mapped_column(String(254))

    customer: Mapped[Customer] = relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at
