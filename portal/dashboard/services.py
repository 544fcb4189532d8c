"""The dashboard's figures: totals, ageing, money collected, and DSO by the countback method.

Everything takes ``today`` as an argument (the staff's local date), and the view reads it from the one clock
(which tests freeze).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from portal import clock
from portal.dashboard import queries
from portal.dashboard.queries import Amount

DEFAULT_ZONE = "Europe/Amsterdam"
DSO_MONTHS = 12
# How far back each DSO point may count through sales. A balance older than this is unusual; the
# figure then says "at least this many days", which is what a supervisor needs to know.
COUNTBACK_MONTHS = 24
COLLECTED_DAYS = 30


def staff_zone() -> ZoneInfo:
    """The time zone staff work in (the deployment's default zone)."""
    name = current_app.config.get("DEFAULT_TIMEZONE", DEFAULT_ZONE) if has_app_context() else DEFAULT_ZONE
    return ZoneInfo(name)


def today_in_staff_zone() -> date:
    """Today's date where staff work; "overdue" flips at their midnight."""
    return clock.today(staff_zone())


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone`` (DST-aware)."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class MonthSales:
    """One month's sales for the countback: invoiced total in cents and the number of days in the month."""

    cents: int
    days: int


def countback_dso(balance_cents: int, months: Sequence[MonthSales]) -> Decimal:
    """Days sales outstanding by the countback method.

    ``months`` are the sales of the month that ends at the measuring point and the months before it,
    newest first. Whole months are subtracted from the balance while it exceeds their sales, each adding
    its number of days; the remainder adds its share of the next month's days
    (remainder / that month's sales x its days). A balance of 150 against sales of 100 (30 days) and
    100 (31 days) gives 30 + 50/100 x 31 = 45.5 days.

    When the history runs out before the balance does, the days of all months are returned: DSO is
    then at least that. No balance (or a credit balance) is 0 days.
    """
    remaining = Decimal(balance_cents)
    days = Decimal(0)
    for month in months:
        if remaining <= 0:
            break
        if remaining > month.cents:
            remaining -= month.cents
            days += month.days
        else:
            # Multiply before dividing, so a third of a 30-day month is exactly 10 days.
            days += remaining * month.days / Decimal(month.cents)
            remaining = Decimal(0)
    return days


@dataclass(frozen=True)
class DsoPoint:
    month_end: date
    receivables_cents: int
    sales_cents: int  # invoiced in the month that ends here
    days: Decimal


@dataclass(frozen=True)
class Dashboard:
    today: date
    buckets: list[Amount]  # not yet due, 1-30, 31-60, 61-90, over 90 days past due
    collected: Amount  # paid in the last COLLECTED_DAYS days, today included
    dso: list[DsoPoint]  # oldest first
    credit: Amount  # overpayments held for customers (the account view's credit on account)

    @property
    def open(self) -> Amount:
        return sum(self.buckets, Amount())

    @property
    def overdue(self) -> Amount:
        return sum(self.buckets[1:], Amount())


def month_ends(today: date, count: int) -> list[date]:
    """The last days of the ``count`` completed months before ``today``'s month, oldest first."""
    ends: list[date] = []
    end = today.replace(day=1) - timedelta(days=1)
    for _ in range(count):
        ends.append(end)
        end = end.replace(day=1) - timedelta(days=1)
    return ends[::-1]


def dso_over_time(session: Session, today: date, zone: ZoneInfo, months: int = DSO_MONTHS) -> list[DsoPoint]:
    """DSO at each of the last ``months`` month-ends, oldest first, from a single grouped query."""
    points = month_ends(today, months)
    moments = [start_of_day(end + timedelta(days=1), zone) for end in points]
    groups = queries.invoiced_by_month_and_payment(session, moments, last_day=points[-1])
    sales: dict[int, int] = {}
    balances = [0] * months
    for group in groups:
        sales[group.month] = sales.get(group.month, 0) + group.cents
        for index, end in enumerate(points):
            # Owed at this month-end: issued by then, and not paid before the day after.
            if group.month <= queries.month_number(end) and group.paid_before > index:
                balances[index] += group.cents
    result = []
    for end, balance in zip(points, balances, strict=True):
        history = [
            MonthSales(sales.get(month, 0), _days_in_month(month))
            for month in range(queries.month_number(end), queries.month_number(end) - COUNTBACK_MONTHS, -1)
        ]
        result.append(DsoPoint(end, balance, history[0].cents, countback_dso(balance, history)))
    return result


def _days_in_month(month: int) -> int:
    year, index = divmod(month, 12)
    return calendar.monthrange(year, index + 1)[1]


def dashboard_figures(session: Session, *, today: date, zone: ZoneInfo) -> Dashboard:
    """All the dashboard's numbers as of ``today`` (a date in the staff's ``zone``)."""
    collected = queries.paid_between(
        session,
        start_of_day(today - timedelta(days=COLLECTED_DAYS - 1), zone),
        start_of_day(today + timedelta(days=1), zone),
    )
    return Dashboard(
        today=today,
        buckets=queries.ageing(session, today),
        collected=collected,
        dso=dso_over_time(session, today, zone),
        credit=queries.credit_held(session),
    )
