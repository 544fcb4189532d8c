"""The business calendar: TARGET days, public holidays, business-day deadlines and contact hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine

from portal.business_calendar import (
    ContactHours,
    add_business_days,
    add_target_days,
    contact_hours,
    is_target_day,
    may_contact_now,
    next_target_day,
    public_holiday,
)
from portal.settings.services import set_settings
from tests.fixtures.factories import TEST_ACTOR

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_target_days_skip_weekends_and_the_ecb_closing_days():
    assert not is_target_day(date(2026, 12, 25)) and not is_target_day(date(2026, 12, 26))
    assert not is_target_day(date(2027, 3, 26)), "Good Friday 2027"
    assert is_target_day(date(2026, 4, 27)), "King's Day is a Dutch holiday, not a TARGET closing day"
    # Thursday 24 December + 2 TARGET days: 25 and 26 are closed, 27 is a Sunday.
    assert add_target_days(date(2026, 12, 24), 2) == date(2026, 12, 29)
    assert next_target_day(date(2026, 12, 31)) == date(2026, 12, 31)
    assert next_target_day(date(2027, 1, 1)) == date(2027, 1, 4)


def test_public_holidays_differ_between_the_netherlands_and_belgium():
    assert public_holiday(date(2026, 4, 27), "NL") and not public_holiday(date(2026, 4, 27), "BE")
    assert public_holiday(date(2026, 7, 21), "BE") and not public_holiday(date(2026, 7, 21), "NL")
    # A first answer due 3 business days after Friday 24 April 2026: Monday 27 is King's Day in NL.
    assert add_business_days(date(2026, 4, 24), 3, "NL") == date(2026, 4, 30)
    assert add_business_days(date(2026, 4, 24), 3, "BE") == date(2026, 4, 29)


def test_contact_hours_are_the_customers_local_hours_and_skip_holidays():
    hours = ContactHours.from_setting({"weekdays": "08:00-21:00", "saturday": "09:00-17:00", "sunday": None})
    nl = {"zone": AMSTERDAM, "country": "NL"}
    assert hours.allows(datetime(2026, 12, 1, 7, 30, tzinfo=UTC), **nl), "08:30 in Amsterdam"
    assert not hours.allows(datetime(2026, 12, 1, 20, 30, tzinfo=UTC), **nl), "21:30 in Amsterdam"
    assert not hours.allows(datetime(2026, 12, 6, 12, 0, tzinfo=UTC), **nl), "a Sunday"
    assert not hours.allows(datetime(2026, 12, 25, 12, 0, tzinfo=UTC), **nl), "Christmas"
    # Christmas Eve 21:30: the next moment is Monday 28 December 08:00 (25, 26 holidays, 27 a Sunday).
    after = hours.next_allowed(datetime(2026, 12, 24, 20, 30, tzinfo=UTC), **nl)
    assert after == datetime(2026, 12, 28, 7, 0, tzinfo=UTC)


def test_a_window_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        ContactHours.from_setting({"weekdays": "21:00-08:00"})


def test_may_contact_now_reads_the_one_clock(session):
    customer = SimpleNamespace(time_zone="Europe/Brussels", country="BE")
    with time_machine.travel(datetime(2026, 7, 21, 10, 0, tzinfo=UTC), tick=False):
        assert not may_contact_now(session, customer), "Belgian National Day"
    with time_machine.travel(datetime(2026, 7, 22, 10, 0, tzinfo=UTC), tick=False):
        assert may_contact_now(session, customer)


def test_may_contact_now_follows_the_creditors_contact_hours_in_force(session):
    customer = SimpleNamespace(time_zone="Europe/Amsterdam", country="NL")
    sunday_noon = datetime(2026, 7, 26, 10, 0, tzinfo=UTC)  # 12:00 in Amsterdam
    with time_machine.travel(sunday_noon, tick=False):
        assert not may_contact_now(session, customer), "no Sundays by default"
        set_settings(session, {"contact.hours": {"weekdays": "09:00-17:00", "sunday": "11:00-13:00"}}, actor=TEST_ACTOR)
        assert may_contact_now(session, customer)
    assert contact_hours(session, at=sunday_noon - timedelta(seconds=1)).windows[6] is None, "the past keeps its hours"
    with time_machine.travel(datetime(2026, 7, 27, 16, 30, tzinfo=UTC), tick=False):
        assert not may_contact_now(session, customer), "Monday 18:30, after the new 17:00"
    with time_machine.travel(datetime(2026, 7, 27, 14, 30, tzinfo=UTC), tick=False):
        assert may_contact_now(session, customer)


def test_the_default_contact_hours_keep_to_the_codes_of_conduct(session):
    hours = contact_hours(session)
    assert hours == ContactHours.from_setting({"weekdays": "08:00-21:00", "saturday": "09:00-17:00", "sunday": None})
