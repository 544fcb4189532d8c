"""DSO by the countback method: the pure calculation with hand-computed cases, and the figures from the database."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from portal.dashboard.services import MonthSales, countback_dso, dso_over_time, month_ends, start_of_day

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def euros(amount: str) -> list[tuple[str, str, str, str, str]]:
    """Invoice lines adding up to exactly ``amount`` euros (no VAT), so totals are easy to compute by hand."""
    return [("Service", "1", "st", amount, "0")]


@pytest.mark.parametrize(
    ("balance", "months", "expected"),
    [
        # The example from the brief: a whole 30-day month, then half of a 31-day month.
        (150, [(100, 30), (100, 31)], Decimal("45.5")),
        # Less than the latest month's sales: a share of that month only. 50/100 x 30 = 15.
        (50, [(100, 30)], Decimal("15")),
        # Exactly the latest month's sales: the whole month, not a day more.
        (100, [(100, 31), (500, 30)], Decimal("31")),
        # A month without sales is counted back in full: 30 + 31 + 150/200 x 31 = 84.25.
        (250, [(100, 30), (0, 31), (200, 31)], Decimal("84.25")),
        # February: 28 + 75/300 x 31 = 35.75.
        (375, [(300, 28), (300, 31)], Decimal("35.75")),
        # A third of a 30-day month is 10 days, exactly.
        (100, [(300, 30)], Decimal("10")),
        # Nothing owed: 0 days, whatever the sales.
        (0, [(100, 30)], Decimal("0")),
        # A credit balance is not negative DSO.
        (-40, [(100, 30)], Decimal("0")),
        # More owed than the history holds: all of its days (DSO is at least this much).
        (500, [(100, 30), (100, 31)], Decimal("61")),
        # No history at all.
        (100, [], Decimal("0")),
    ],
)
def test_countback_dso_by_hand(balance, months, expected):
    result = countback_dso(balance, [MonthSales(cents, days) for cents, days in months])
    assert result == expected


def test_countback_keeps_fractions_exact():
    # 100/300 x 31 = 10.333...; rounding is left to the page, which shows one decimal.
    days = countback_dso(100, [MonthSales(300, 31)])
    assert days.quantize(Decimal("0.001")) == Decimal("10.333")


def test_month_ends_are_the_completed_months_before_today():
    assert month_ends(date(2026, 3, 15), 3) == [date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28)]
    assert month_ends(date(2024, 3, 1), 1) == [date(2024, 2, 29)]


def test_dso_from_the_database_by_hand(session, create_customer, create_invoice):
    customer = create_customer()
    # A: issued in September, still open.
    create_invoice(customer, lines=euros("100.00"), issue_date=date(2026, 9, 10))
    # B: issued in October, paid at 00:30 on 1 November in Amsterdam (23:30 UTC): still owed at 31 October.
    create_invoice(
        customer,
        lines=euros("100.00"),
        issue_date=date(2026, 10, 5),
        state="paid",
        paid_at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC),
    )
    # C: issued in October, paid at 23:30 on 31 October in Amsterdam (22:30 UTC): no longer owed at the month-end.
    create_invoice(
        customer,
        lines=euros("50.00"),
        issue_date=date(2026, 10, 20),
        state="paid",
        paid_at=datetime(2026, 10, 31, 22, 30, tzinfo=UTC),
    )
    # Cancelled: neither owed nor sold.
    create_invoice(customer, lines=euros("1000.00"), issue_date=date(2026, 10, 1), state="cancelled")
    # In another currency: not added to euros.
    create_invoice(customer, lines=euros("700.00"), issue_date=date(2026, 10, 1), currency="USD")
    # Issued after the last month-end: not part of any point.
    create_invoice(customer, lines=euros("999.00"), issue_date=date(2026, 11, 2))

    points = dso_over_time(session, date(2026, 11, 15), AMSTERDAM)

    assert [point.month_end for point in points][-3:] == [date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31)]
    august, september, october = points[-3:]
    assert (august.receivables_cents, august.days) == (0, 0)
    # 30 September: only A is owed (100), against September's sales of 100: the whole 30-day month.
    assert (september.receivables_cents, september.sales_cents, september.days) == (10000, 10000, 30)
    # 31 October: A + B = 200 owed; October's sales are B + C = 150 (31 days), leaving 50 of September's 100:
    # 31 + 50/100 x 30 = 46 days.
    assert (october.receivables_cents, october.sales_cents, october.days) == (20000, 15000, 46)
    assert len(points) == 12


def test_the_grouped_query_matches_a_plain_calculation(session, create_customer, create_invoice):
    """A random mix of invoices: the one-query figures equal a naive computation invoice by invoice."""
    rng = random.Random(7)
    customer = create_customer()
    today = date(2026, 11, 15)
    invoices = []
    for _ in range(60):
        issue = today - timedelta(days=rng.randint(1, 500))
        paid_on = issue + timedelta(days=rng.randint(0, 120))
        paid = paid_on < today and rng.random() < 0.7
        state = "paid" if paid else rng.choice(["open", "open", "cancelled"])
        paid_at = datetime(paid_on.year, paid_on.month, paid_on.day, rng.randint(0, 23), tzinfo=UTC) if paid else None
        invoices.append(
            create_invoice(
                customer,
                lines=euros(f"{rng.randint(10, 500)}.{rng.randint(0, 99):02d}"),
                issue_date=issue,
                state=state,
                paid_at=paid_at,
            )
        )

    points = dso_over_time(session, today, AMSTERDAM)

    for point in points:
        after = start_of_day(point.month_end + timedelta(days=1), AMSTERDAM)
        owed = sum(
            invoice.total_cents
            for invoice in invoices
            if invoice.state != "cancelled"
            and invoice.issue_date <= point.month_end
            and (invoice.paid_at is None or invoice.paid_at >= after)
        )
        sold = sum(
            invoice.total_cents
            for invoice in invoices
            if invoice.state != "cancelled"
            and (invoice.issue_date.year, invoice.issue_date.month) == (point.month_end.year, point.month_end.month)
        )
        assert (point.receivables_cents, point.sales_cents) == (owed, sold), point.month_end
