from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from portal import clock
from portal.db import Base, UTCDateTime


class ImportJob(Base):
    """One uploaded CSV file and what became of it: previewed, then imported in the background.

    The file itself is kept in the database so any worker on any machine can run the import.
    """

    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint("kind IN ('customers', 'invoices')", name="kind"),
        CheckConstraint("state IN ('previewed', 'queued', 'running', 'done', 'failed')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    state: Mapped[str] = mapped_column(String(10), default="previewed")
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    # While the job runs: "checking" or "saving", with processed_rows done in that step. Kept in the row,
    # not in memory, so whichever web worker answers the progress page can show it.
    progress_step: Mapped[str | None] = mapped_column(String(10))
    # What the preview or the import found: counts of created / updated / unchanged, and errors.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    failure: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
