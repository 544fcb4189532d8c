"""The business calendar: TARGET days for collections, Dutch and Belgian public holidays, contact hours.

Collections (SEPA direct debit) settle only on TARGET2 days: weekdays other than the ECB's closing days
(New Year, Good Friday, Easter Monday, 1 May, 25 and 26 December). Deadlines promised to people (a first
answer to a dispute within N business days) skip weekends and the public holidays of the customer's
country. Contact (reminders, calls) happens only within the creditor's contact hours (the versioned
setting ``contact.hours``), in the customer's own time zone, never on a public holiday of the customer's
country. Dates come from the ``holidays`` package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import holidays

from portal import clock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SUPPORTED_COUNTRIES = ("NL", "BE")


@lru_cache(maxsize=64)
def _target_closed(year: int) -> frozenset[date]:
    return frozenset(holidays.financial_holidays("ECB", years=year))


@lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays(country, years=year))


def is_target_day(day: date) -> bool:
    """True when TARGET2 settles payments on ``day`` (a collection date must be one)."""
    return day.weekday() < 5 and day not in _target_closed(day.year)


def next_target_day(day: date) -> date:
    """``day`` itself when it is a TARGET day, else the first one after it."""
    while not is_target_day(day):
        day += timedelta(days=1)
    return day


def add_target_days(day: date, days: int) -> date:
    """The TARGET day ``days`` TARGET days after ``day`` (the SEPA lead times count in these)."""
    for _ in range(days):
        day = next_target_day(day + timedelta(days=1))
    return day


def public_holiday(day: date, country: str) -> str | None:
    """The English name of the public holiday on ``day`` in ``country`` (NL, BE), or None."""
    if country not in SUPPORTED_COUNTRIES:
        country = "NL"
    return _public_holidays(country, day.year).get(day)


def is_business_day(day: date, country: str) -> bool:
    return day.weekday() < 5 and public_holiday(day, country) is None


def add_business_days(day: date, days: int, country: str) -> date:
    """The business day ``days`` business days after ``day`` in ``country``: for deadlines promised to people."""
    for _ in range(days):
        day += timedelta(days=1)
        while not is_business_day(day, country):
            day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class ContactHours:
    """When the portal may contact a customer, per weekday (0 = Monday), in the customer's local time."""

    windows: tuple[tuple[time, time] | None, ...]  # seven entries; None: not on that day

    @classmethod
    def from_setting(cls, value: dict[str, Any]) -> ContactHours:
        """From the stored policy: {"weekdays": "08:00-21:00", "saturday": "09:00-17:00", "sunday": null}."""

        def window(text: str | None) -> tuple[time, time] | None:
            if not text:
                return None
            start, end = (time.fromisoformat(part.strip()) for part in text.split("-", 1))
            if not start < end:
                raise ValueError(f"contact window {text!r} ends before it starts")
            return start, end

        weekday = window(value.get("weekdays"))
        return cls((weekday,) * 5 + (window(value.get("saturday")), window(value.get("sunday"))))

    def allows(self, moment: datetime, *, zone: Any, country: str) -> bool:
        """True when ``moment`` (aware) falls inside the hours, in ``zone``, and is not a public holiday."""
        local = moment.astimezone(zone)
        window = self.windows[local.weekday()]
        if window is None or public_holiday(local.date(), country):
            return False
        return window[0] <= local.time() < window[1]

    def next_allowed(self, moment: datetime, *, zone: Any, country: str) -> datetime:
        """The first moment at or after ``moment`` inside the hours (in UTC), looking up to two weeks ahead."""
        if self.allows(moment, zone=zone, country=country):
            return moment
        local = moment.astimezone(zone)
        for offset in range(15):
            day = local.date() + timedelta(days=offset)
            window = self.windows[day.weekday()]
            if window is None or public_holiday(day, country):
                continue
            start = datetime.combine(day, window[0], tzinfo=zone)
            if start >= local:
                return start.astimezone(moment.tzinfo)
        raise ValueError("no contact hours in the next two weeks")


def contact_hours(session: Session, at: datetime | None = None) -> ContactHours:
    """The creditor's contact hours in force at ``at`` (now by default), from the setting ``contact.hours``."""
    # Imported here: the calendar stays a leaf module that any feature (the settings' own dependencies
    # among them) can import without a cycle.
    from portal.settings.services import CONTACT_HOURS_KEY, get_setting

    return ContactHours.from_setting(get_setting(session, CONTACT_HOURS_KEY, at=at))


def may_contact_now(session: Session, customer: Any) -> bool:
    """Whether ``customer`` (with ``time_zone`` and ``country``) may be contacted at this moment."""
    moment = clock.now()
    return contact_hours(session, at=moment).allows(moment, zone=clock.zone_of(customer), country=customer.country)
