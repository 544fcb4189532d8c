"""One row per version of a setting. Append-only: the migration adds triggers that refuse UPDATE and DELETE."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal import clock
from portal.db import Base, UTCDateTime


class SettingVersion(Base):
    """The value of ``key`` from ``valid_from`` on, until a later version of the same key.

    ``version`` counts per key (1, 2, ...). It orders the versions even when two land in the same
    microsecond, and its unique constraint makes two administrators saving at once fail loudly instead of
    one silently overwriting the other.
    """

    __tablename__ = "setting_versions"
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_setting_versions_key_version"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_setting_versions_key_valid_from", "key", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    value: Mapped[Any] = mapped_column(JSON)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    changed_by: Mapped[str] = mapped_column(String(254))  # a staff e-mail address, or "system"
    note: Mapped[str | None] = mapped_column(String(500))
