"""The dashboard as a supervisor sees it: totals, ageing buckets, money collected, DSO, charts with tables."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

TODAY = date(2026, 11, 15)


def euros(amount: str) -> list[tuple[str, str, str, str, str]]:
    return [("Service", "1", "st", amount, "0")]


@pytest.fixture(autouse=True)
def frozen_today():
    # Noon in Amsterdam: the staff's "today" is TODAY wherever the test machine is.
    with time_machine.travel(datetime(2026, 11, 15, 11, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture()
def invoices(create_customer, create_invoice):
    """A handful of invoices, one or two per bucket, with due dates relative to TODAY."""
    customer = create_customer()

    def due(days_ago: int, amount: str, **overrides):
        due_date = TODAY - timedelta(days=days_ago)
        return create_invoice(
            customer, lines=euros(amount), issue_date=due_date - timedelta(days=14), due_date=due_date, **overrides
        )

    due(0, "100.00")  # due today: not yet overdue
    due(-10, "1000.00")  # due in ten days
    due(1, "200.00")  # 1-30
    due(30, "300.00")  # 1-30
    due(31, "400.00")  # 31-60
    due(90, "50.00")  # 61-90
    due(91, "25.00")  # over 90
    due(200, "7.50")  # over 90
    due(45, "5000.00", state="cancelled")  # not owed
    due(45, "800.00", currency="USD")  # not in euros
    # Paid: not open. One within the last 30 days, one just inside the window, one before it.
    due(20, "70.00", state="paid", paid_at=datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    due(40, "30.00", state="paid", paid_at=datetime(2026, 10, 17, 8, 0, tzinfo=UTC))  # 17 Oct: day 30 of 30
    due(60, "900.00", state="paid", paid_at=datetime(2026, 10, 15, 12, 0, tzinfo=UTC))


def _row(html: str, label: str) -> tuple[str, str]:
    """(count, amount) from the ageing table's row for ``label``."""
    match = re.search(
        rf'<th scope="row">{re.escape(label)}</th>\s*<td class="num">([^<]*)</td>\s*<td class="num">([^<]*)</td>', html
    )
    assert match, f"no row {label!r}"
    return match.group(1), match.group(2)


def test_totals_and_ageing_buckets(client, staff_login, invoices):
    staff_login(client, "supervisor", language="en")
    html = client.get("/staff/dashboard/").get_data(as_text=True)

    # Open: 100 + 1000 + 200 + 300 + 400 + 50 + 25 + 7.50; overdue is all of it but the 1,100 not yet due.
    assert re.search(
        r"Total open</dt>\s*<dd><span class=\"kpi-value\">€2,082.50</span>\s*<span class=\"sub\">8 invoices", html
    )
    assert re.search(
        r"Overdue</dt>\s*<dd><span class=\"kpi-value overdue-text\">€982.50</span>\s*<span class=\"sub\">6 invoices",
        html,
    )
    assert re.search(
        r"Collected in the last 30 days</dt>\s*<dd><span class=\"kpi-value\">€100.00</span>\s*"
        r"<span class=\"sub\">2 invoices",
        html,
    )

    assert _row(html, "Not yet due") == ("2", "€1,100.00")
    assert _row(html, "1-30 days") == ("2", "€500.00")
    assert _row(html, "31-60 days") == ("1", "€400.00")
    assert _row(html, "61-90 days") == ("1", "€50.00")
    assert _row(html, "Over 90 days") == ("2", "€32.50")
    assert _row(html, "Total open") == ("8", "€2,082.50")


def test_charts_are_labelled_svg_with_tables(client, staff_login, invoices):
    staff_login(client, "supervisor", language="en")
    html = client.get("/staff/dashboard/").get_data(as_text=True)

    charts = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(charts) == 2
    ageing, dso = charts
    assert 'role="img"' in ageing and "<title" in ageing and "Open amount by days past due" in ageing
    for amount in ("€1,100.00", "€500.00", "€400.00", "€50.00", "€32.50"):
        assert f">{amount}</text>" in ageing, "every bar carries its amount as text"
    assert "Days past due" in ageing and "Open amount (EUR)" in ageing
    assert "DSO at each month-end" in dso and ">Days</text>" in dso
    assert " style=" not in html, "the Content-Security-Policy forbids style attributes"
    assert ">Open invoices by days past due</caption>" in html
    assert "DSO at each month-end</caption>" in html
    assert html.count('<th scope="row">') >= 6 + 12


def test_dso_table_shows_days_with_one_decimal(client, staff_login, create_customer, create_invoice):
    customer = create_customer()
    # Owed at 31 October: 150 of September, against sales of 100 in October (31 days) and 150 in September (30 days).
    create_invoice(customer, lines=euros("150.00"), issue_date=date(2026, 9, 10))
    create_invoice(
        customer,
        lines=euros("100.00"),
        issue_date=date(2026, 10, 3),
        state="paid",
        paid_at=datetime(2026, 10, 20, tzinfo=UTC),
    )
    staff_login(client, "viewer", language="nl")
    html = client.get("/staff/dashboard/").get_data(as_text=True)
    # 150 - 100 -> 31 days, then 50/150 x 30 = 10 -> 41,0 days (Dutch decimal comma).
    assert re.search(
        r"31 okt 2026</th>\s*<td class=\"num\">€\xa0150,00</td>\s*"
        r"<td class=\"num\">€\xa0100,00</td>\s*<td class=\"num\">41,0</td>",
        html,
    )
    assert "41,0 dagen" in html or "41,0 days" in html


def test_amounts_follow_the_staff_members_language(client, staff_login, invoices):
    staff_login(client, "viewer", language="nl")
    html = client.get("/staff/dashboard/").get_data(as_text=True)
    assert "€\xa02.082,50" in html


def test_a_viewer_lands_on_the_dashboard(client, staff_login):
    staff_login(client, "viewer")
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/dashboard/")
    page = client.get("/staff/dashboard/")
    assert page.status_code == 200
    assert "<h1>Dashboard</h1>" in page.get_data(as_text=True)


def test_an_empty_ledger_shows_zeroes(client, staff_login):
    staff_login(client, "viewer", language="en")
    html = client.get("/staff/dashboard/").get_data(as_text=True)
    assert _row(html, "Total open") == ("0", "€0.00")
    assert html.count("<svg ") == 2


def test_the_dashboard_needs_a_log_in(client):
    response = client.get("/staff/dashboard/")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_credit_held_for_customers_and_an_overpaid_invoice_owe_nothing(
    client, staff_login, session, create_customer, create_invoice, create_credit
):
    first, second = create_customer(), create_customer()
    create_credit(first, 1500)
    create_credit(second, 500)
    # The billing system lowered this invoice's total below what was already paid: it owes nothing.
    lowered = create_invoice(first, lines=euros("10.00"), due_date=TODAY)
    lowered.paid_cents = 2500
    session.commit()
    staff_login(client, "supervisor", language="en")
    html = client.get("/staff/dashboard/").get_data(as_text=True)
    assert re.search(
        r"Credit held for customers</dt>\s*<dd><span class=\"kpi-value\">€20.00</span>\s*"
        r"<span class=\"sub\">2 customers",
        html,
    )
    assert re.search(r"Total open</dt>\s*<dd><span class=\"kpi-value\">€0.00</span>", html)
