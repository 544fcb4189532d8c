"""The direct-debit policy in force, read once from the versioned settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.settings.registry import (
    DEBIT_ALLOWED_DAYS_KEY,
    DEBIT_CHANGES_PER_YEAR_KEY,
    DEBIT_FAILED_GRACE_DAYS_KEY,
    DEBIT_NOTICE_DAYS_KEY,
    DEBIT_RETRY_WINDOW_DAYS_KEY,
)
from portal.settings.services import current_settings

KEYS = (
    DEBIT_NOTICE_DAYS_KEY,
    DEBIT_ALLOWED_DAYS_KEY,
    DEBIT_CHANGES_PER_YEAR_KEY,
    DEBIT_FAILED_GRACE_DAYS_KEY,
    DEBIT_RETRY_WINDOW_DAYS_KEY,
)


@dataclass(frozen=True)
class DebitPolicy:
    notice_days: int
    allowed_days: tuple[int, ...]
    changes_per_year: int
    failed_grace_days: int
    retry_window_days: int


def debit_policy(session: Session, at: datetime | None = None) -> DebitPolicy:
    values = current_settings(session, list(KEYS), at=at)
    return DebitPolicy(
        notice_days=int(values[DEBIT_NOTICE_DAYS_KEY]),
        allowed_days=tuple(int(day) for day in values[DEBIT_ALLOWED_DAYS_KEY]),
        changes_per_year=int(values[DEBIT_CHANGES_PER_YEAR_KEY]),
        failed_grace_days=int(values[DEBIT_FAILED_GRACE_DAYS_KEY]),
        retry_window_days=int(values[DEBIT_RETRY_WINDOW_DAYS_KEY]),
    )
