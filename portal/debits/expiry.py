"""A mandate unused for 36 months expires (SEPA rulebook): collecting on it after that would be unauthorised.

Only a mandate without a running schedule expires here: a running schedule is about to use it, and an
imported mandate whose earlier collections happened elsewhere has no ``last_collected_on`` to go by.
"""

from __future__ import annotations

import calendar
from datetime import date

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.debits import events as debit_events
from portal.debits.models import DebitSchedule, Mandate
from portal.events import emit

UNUSED_MONTHS = 36


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier, or that month's last day (29 February three years back)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expire_unused_mandates(session: Session, *, today: date, actor: Actor) -> list[int]:
    """Expire active mandates last used (or signed) more than 36 months before ``today``; returns their ids."""
    running = exists(
        select(DebitSchedule.id).where(DebitSchedule.mandate_id == Mandate.id, DebitSchedule.ended_at.is_(None))
    )
    mandates = session.scalars(
        select(Mandate).where(
            Mandate.status == "active",
            func.coalesce(Mandate.last_collected_on, Mandate.signed_on) < months_before(today, UNUSED_MONTHS),
            ~running,
        )
    ).all()
    for mandate in mandates:
        mandate.status = "expired"
        mandate.revoked_at = clock.now()
        emit(session, debit_events.about_mandate(debit_events.MANDATE_EXPIRED, mandate, actor))
    return [mandate.id for mandate in mandates]
