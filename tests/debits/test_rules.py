"""The date rules of direct debit, with fixed dates: month ends, February, TARGET holidays, the notice period
and the change limit. Pure functions: no database."""

from __future__ import annotations

from datetime import date

import pytest

from portal.debits import rules
from portal.debits.rules import KnownDebit

ALL_DAYS = tuple(range(1, 29))


def _preview(current_day: int, new_day: int, today: date, *, notified=(), changes=0, next_unnotified=None):
    return rules.preview(
        current_day=current_day,
        new_day=new_day,
        amount_cents=8470,
        today=today,
        notice_days=14,
        next_unnotified=next_unnotified or rules.period_of(today),
        notified=notified,
        allowed_days=ALL_DAYS,
        changes_in_window=changes,
        changes_per_year=2,
    )


def _dates(planned):
    return [debit.date.isoformat() for debit in planned]


@pytest.mark.parametrize(
    ("period", "day", "expected"),
    [
        ("2027-01", 1, date(2027, 1, 4)),  # New Year is a TARGET holiday, 2-3 January a weekend
        ("2027-03", 29, date(2027, 3, 30)),  # Easter Monday 29 March 2027 -> Tuesday
        ("2027-05", 1, date(2027, 5, 3)),  # 1 May (a Saturday in 2027 anyway) -> Monday 3 May
        ("2026-05", 1, date(2026, 5, 4)),  # 1 May 2026 is a Friday and a TARGET holiday
        ("2027-12", 25, date(2027, 12, 27)),  # Christmas Saturday -> Monday 27th (26th is a Sunday)
        ("2026-12", 25, date(2026, 12, 28)),  # Christmas Friday, Boxing Day Saturday -> Monday 28th
        ("2027-02", 28, date(2027, 3, 1)),  # 28 February 2027 is a Sunday: the February debit falls on 1 March
        ("2027-04", 27, date(2027, 4, 27)),  # King's Day is not a TARGET holiday
        ("2027-02", 31, date(2027, 3, 1)),  # a day the month lacks: its last day (28th, a Sunday) -> 1 March
    ],
)
def test_each_period_falls_on_the_chosen_day_or_the_next_target_day(period: str, day: int, expected: date) -> None:
    assert rules.debit_date(period, day) == expected


def test_good_friday_moves_past_easter_monday() -> None:
    # Good Friday 2027 is 26 March and Easter Monday 29 March: the next TARGET day is Tuesday 30 March.
    assert rules.debit_date("2027-03", 26) == date(2027, 3, 30)


def test_moving_from_the_1st_to_the_25th_moves_every_period_not_yet_fixed() -> None:
    preview = _preview(1, 25, date(2026, 12, 1), next_unnotified="2027-01")
    assert preview.allowed and preview.reason is None
    assert _dates(preview.before) == ["2027-01-04", "2027-02-01", "2027-03-01"]
    assert _dates(preview.after) == ["2027-01-25", "2027-02-25", "2027-03-25"]
    assert [debit.period for debit in preview.after] == ["2027-01", "2027-02", "2027-03"], "no period twice or skipped"


def test_a_debit_within_the_notice_period_is_fixed_and_happens_as_notified() -> None:
    today = date(2026, 12, 20)
    notified = [KnownDebit("2027-01", date(2027, 1, 4), 8470)]  # 15 days away: not fixed yet on the 20th
    preview = _preview(1, 25, today, notified=notified, next_unnotified="2027-02")
    assert _dates(preview.after)[0] == "2027-01-25"
    # One day later the January debit is sooner than today + 14 days: fixed.
    later = _preview(1, 25, date(2026, 12, 22), notified=notified, next_unnotified="2027-02")
    assert later.before[0].fixed
    assert _dates(later.after) == ["2027-01-04", "2027-02-25", "2027-03-25"]


def test_a_new_date_inside_the_notice_period_keeps_the_old_date_and_the_new_day_starts_a_period_later() -> None:
    # On the 25th, moving to the 1st on 1 December: the December debit (28th) is not fixed, but 1 December is
    # today, far inside the notice period. December keeps the 28th; January moves to the 1st (the 4th): two
    # debits close together, which the page points out.
    today = date(2026, 12, 1)
    notified = [KnownDebit("2026-12", date(2026, 12, 28), 8470)]
    preview = _preview(25, 1, today, notified=notified, next_unnotified="2027-01")
    assert not preview.before[0].fixed, "28 December is 27 days away"
    assert _dates(preview.after) == ["2026-12-28", "2027-01-04", "2027-02-01"]
    assert [(a.period, b.period) for a, b in preview.close_together] == [("2026-12", "2027-01")]


def test_just_inside_and_just_outside_the_notice_period() -> None:
    notified = [KnownDebit("2027-01", date(2027, 1, 15), 8470)]
    # 14 days before the 15th is the 1st: not sooner than today + 14, so it can still move.
    outside = _preview(15, 20, date(2027, 1, 1), notified=notified, next_unnotified="2027-02")
    assert not outside.before[0].fixed and outside.after[0].date == date(2027, 1, 20)
    # A day later it is fixed.
    inside = _preview(15, 20, date(2027, 1, 2), notified=notified, next_unnotified="2027-02")
    assert inside.before[0].fixed and inside.after[0].date == date(2027, 1, 15)


def test_a_period_announced_too_late_falls_on_the_first_date_its_notice_allows_never_skipped() -> None:
    planned = rules.upcoming(
        day_of_month=1, amount_cents=100, today=date(2026, 12, 10), notice_days=14, next_unnotified="2026-12"
    )
    assert [debit.period for debit in planned] == ["2026-12", "2027-01", "2027-02"]
    assert planned[0].date == date(2026, 12, 24), "10 December + 14 days, a TARGET day"


def test_the_change_limit_and_the_allowed_days() -> None:
    today = date(2026, 12, 1)
    assert _preview(1, 25, today, changes=2).reason == "too_many_changes"
    assert _preview(1, 25, today, changes=1).allowed
    assert _preview(1, 29, today).reason == "day_not_allowed"
    assert _preview(1, 1, today).reason == "same_day"
    refused = _preview(1, 29, today)
    assert refused.after == refused.before, "a refused change shows nothing moved"


def test_json_amounts_are_exact_strings() -> None:
    debit = rules.PlannedDebit("2027-01", date(2027, 1, 4), 123456789)
    assert debit.as_json() == {"period": "2027-01", "date": "2027-01-04", "amount": "1234567.89"}
    assert rules.decimal_text(5) == "0.05"


def test_periods() -> None:
    assert rules.next_period("2026-12") == "2027-01"
    assert rules.next_period("2027-01", 13) == "2028-02"
    for bad in ("2027-13", "2027-1", "27-01", "2027/01", "abcd-ef", "\uff12\uff10\uff12\uff17-\uff10\uff11"):
        with pytest.raises(ValueError):
            rules.parse_period(bad)
