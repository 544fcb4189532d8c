"""The one clock. Every moment the portal acts on comes from here, so tests freeze time in one place.

Tests freeze it with time-machine (``time_machine.travel(...)``), which moves ``datetime.now`` and
``time.time`` together; nothing here caches a moment, so a frozen or travelling clock is seen everywhere.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def now() -> datetime:
    """This moment, timezone-aware in UTC: what the database stores."""
    return datetime.now(UTC)


def today(zone: ZoneInfo | str) -> date:
    """Today's date in ``zone`` (a customer's or the deployment's time zone)."""
    return now().astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)).date()


def timestamp() -> int:
    """Whole seconds since the epoch, for values kept in a signed cookie."""
    return int(now().timestamp())


class _HasTimeZone(Protocol):
    time_zone: str


FALLBACK_ZONE = ZoneInfo("Europe/Amsterdam")
# The creditor's own time zone: commands, jobs and staff screens that judge "today" for no one customer.
BUSINESS_ZONE = "Europe/Amsterdam"


def zone_of(customer: _HasTimeZone) -> ZoneInfo:
    """The customer's time zone; an unknown name on file falls back to Amsterdam rather than failing a page."""
    try:
        return ZoneInfo(customer.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return FALLBACK_ZONE


def today_for(customer: _HasTimeZone, at: datetime | None = None) -> date:
    """The customer's local date: an invoice becomes overdue at their midnight, wherever the server is."""
    return (at or now()).astimezone(zone_of(customer)).date()
