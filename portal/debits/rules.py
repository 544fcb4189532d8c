"""The date rules of direct debit, as pure functions: pages, the staff area, the CLI and the API all use these.

1. Each period's debit falls on the chosen day of that month, moved forward to the next TARGET day when that
   day is not one (a February debit on the 28th can fall on 1 March; a debit is pushed past Easter Monday).
2. A debit whose date is sooner than today plus the notice period is fixed: it happens as notified.
3. After a change of day, each period that is not fixed moves to the new day, unless its new date would be
   sooner than today plus the notice period: then it keeps its current date, and the new day starts with
   the period after.
4. No period is ever debited twice or skipped: a period is the identity of a debit, and only its date moves.
5. Only allowed days (1-28 by default), and only so many changes in any twelve months (both settings).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from portal.business_calendar import next_target_day
from portal.money import decimal_text

# Changes are counted over the twelve months before today.
CHANGE_WINDOW = timedelta(days=365)


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_period(period: str) -> tuple[int, int]:
    """``"2027-02"`` -> (2027, 2); ValueError for anything else."""
    year_text, _, month_text = period.partition("-")
    digits = year_text + month_text
    # ASCII only: "２０２７" (full-width) is digits to Python, not a period anyone means.
    if len(year_text) != 4 or len(month_text) != 2 or not (digits.isascii() and digits.isdigit()):
        raise ValueError(period)
    year, month = int(year_text), int(month_text)
    if not 1 <= month <= 12:
        raise ValueError(period)
    return year, month


def next_period(period: str, months: int = 1) -> str:
    year, month = parse_period(period)
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def debit_date(period: str, day_of_month: int) -> date:
    """Rule 1: the chosen day of the period's month (the last day for a day the month lacks), moved forward to
    the next TARGET day."""
    year, month = parse_period(period)
    day = min(day_of_month, calendar.monthrange(year, month)[1])
    return next_target_day(date(year, month, day))


def earliest_new_date(today: date, notice_days: int) -> date:
    """The first date a debit not yet notified can fall on: the notice period from today, on a TARGET day."""
    return next_target_day(today + timedelta(days=notice_days))


def is_fixed(debit_on: date, today: date, notice_days: int) -> bool:
    """Rule 2: sooner than today plus the notice period, so it happens as notified."""
    return debit_on < today + timedelta(days=notice_days)


@dataclass(frozen=True)
class PlannedDebit:
    period: str
    date: date
    amount_cents: int
    fixed: bool = False

    def as_json(self) -> dict[str, str]:
        return {"period": self.period, "date": self.date.isoformat(), "amount": decimal_text(self.amount_cents)}


@dataclass(frozen=True)
class KnownDebit:
    """A period whose debit was already notified: its date is what the debtor was told."""

    period: str
    date: date
    amount_cents: int


def upcoming(
    *,
    day_of_month: int,
    amount_cents: int,
    today: date,
    notice_days: int,
    next_unnotified: str,
    notified: Sequence[KnownDebit] = (),
    count: int = 3,
    last_period: str | None = None,
) -> list[PlannedDebit]:
    """The next ``count`` debits: the notified ones still to come, then the periods from ``next_unnotified`` on.

    A period not yet notified whose date is already too close gets the earliest date its notice allows: it
    is late, never skipped (rule 4).
    """
    planned = [
        PlannedDebit(known.period, known.date, known.amount_cents, is_fixed(known.date, today, notice_days))
        for known in sorted(notified, key=lambda known: known.period)
    ]
    earliest = earliest_new_date(today, notice_days)
    period = next_unnotified
    while len(planned) < count and (last_period is None or period <= last_period):
        on = max(debit_date(period, day_of_month), earliest)
        planned.append(PlannedDebit(period, on, amount_cents, fixed=False))
        period = next_period(period)
    return planned[:count]


def moved(planned: Sequence[PlannedDebit], *, new_day: int, today: date, notice_days: int) -> list[PlannedDebit]:
    """Rule 3: what ``planned`` becomes when the day changes to ``new_day``.

    Once one period keeps its date because the new one is too close, every later period still moves: the
    new day "starts with the period after".
    """
    after = []
    for debit in planned:
        if debit.fixed:
            after.append(debit)
            continue
        new_date = debit_date(debit.period, new_day)
        if new_date < today + timedelta(days=notice_days):
            after.append(debit)  # keeps its current date, as notified
        else:
            after.append(PlannedDebit(debit.period, new_date, debit.amount_cents, fixed=False))
    return after


def change_refused(
    *, current_day: int, new_day: int, allowed_days: Sequence[int], changes_in_window: int, changes_per_year: int
) -> str | None:
    """Rule 5: why a change of day is not allowed (a short code), or None when it is."""
    if new_day not in allowed_days:
        return "day_not_allowed"
    if new_day == current_day:
        return "same_day"
    if changes_in_window >= changes_per_year:
        return "too_many_changes"
    return None


def as_if_running(
    *, day_of_month: int, amount_cents: int, today: date, notice_days: int, announce_ahead_days: int
) -> tuple[list[KnownDebit], str]:
    """What the stored state would be for a debtor long collected on ``day_of_month``: the debits already
    announced (from this month's, if still to come) and the first period not announced yet. For previews of
    a debtor the portal has no schedule for (the CLI's ``--current-day``)."""
    period = period_of(today)
    if debit_date(period, day_of_month) < today:
        period = next_period(period)
    announced = []
    while debit_date(period, day_of_month) <= today + timedelta(days=notice_days + announce_ahead_days):
        announced.append(KnownDebit(period, debit_date(period, day_of_month), amount_cents))
        period = next_period(period)
    return announced, period


@dataclass(frozen=True)
class DayChangePreview:
    allowed: bool
    reason: str | None
    before: list[PlannedDebit]
    after: list[PlannedDebit]

    @property
    def close_together(self) -> list[tuple[PlannedDebit, PlannedDebit]]:
        """Neighbouring debits after the change that fall within 14 days of each other (one was fixed)."""
        pairs = zip(self.after, self.after[1:], strict=False)
        return [(first, second) for first, second in pairs if (second.date - first.date).days < 14]

    def as_json(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "before": [debit.as_json() for debit in self.before],
            "after": [debit.as_json() for debit in self.after],
        }


def preview(
    *,
    current_day: int,
    new_day: int,
    amount_cents: int,
    today: date,
    notice_days: int,
    next_unnotified: str,
    notified: Sequence[KnownDebit] = (),
    allowed_days: Sequence[int],
    changes_in_window: int,
    changes_per_year: int,
    last_period: str | None = None,
) -> DayChangePreview:
    """The next three debits before and after moving from ``current_day`` to ``new_day``, and whether it may."""
    reason = change_refused(
        current_day=current_day,
        new_day=new_day,
        allowed_days=allowed_days,
        changes_in_window=changes_in_window,
        changes_per_year=changes_per_year,
    )
    before = upcoming(
        day_of_month=current_day,
        amount_cents=amount_cents,
        today=today,
        notice_days=notice_days,
        next_unnotified=next_unnotified,
        notified=notified,
        last_period=last_period,
    )
    after = moved(before, new_day=new_day, today=today, notice_days=notice_days) if reason is None else before
    return DayChangePreview(allowed=reason is None, reason=reason, before=before, after=after)
