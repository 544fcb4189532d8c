"""The account view: one answer to what is owed, overdue, held as credit, and whether dunning is paused."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from portal import clock
from portal.accounts.pausing import pause_reason, register_pause_reason, unregister_pause_reason
from portal.accounts.view import OUTSTANDING, balance_of, dunnable_invoices
from portal.invoices.models import Invoice


def test_an_invoice_paid_more_than_its_total_owes_nothing_everywhere(
    client, session, create_customer, create_invoice, login, staff_login
):
    # The billing system lowered the total after a part-payment: more is paid than is now owed.
    customer = create_customer(name="Overpaid Olga", language="en")
    lowered = create_invoice(customer, number="F-LOWERED", lines=[("Service", "1", "st", "50.00", "0")])
    lowered.paid_cents = 8000
    create_invoice(customer, number="F-OPEN", lines=[("Service", "1", "st", "30.00", "0")])
    session.commit()

    assert lowered.outstanding_cents == 0
    assert session.scalar(select(OUTSTANDING).where(Invoice.id == lowered.id)) == 0
    assert balance_of(session, customer).open == {"EUR": 3000}

    login(client, customer)
    overview = client.get("/overview").get_data(as_text=True)
    assert re.search(r"You owe\s*<strong[^>]*>€\s?30\.00<", overview)
    staff = client.application.test_client()
    staff_login(staff, "viewer", language="en")
    search = staff.get("/staff/customers/?q=Overpaid").get_data(as_text=True)
    assert "€30.00" in search and "-€20.00" not in search and "€10.00" not in search
    page = staff.get(f"/staff/customers/{customer.id}").get_data(as_text=True)
    assert "€30.00" in page


def test_credit_from_an_overpayment_is_shown_and_netted(
    client, session, create_customer, create_invoice, create_credit, login
):
    customer = create_customer(language="en")
    create_invoice(customer, lines=[("Service", "1", "st", "100.00", "0")])
    create_credit(customer, 2500)

    balance = balance_of(session, customer)
    assert (balance.open, balance.credit, balance.net) == ({"EUR": 10000}, {"EUR": 2500}, {"EUR": 7500})
    login(client, customer)
    overview = client.get("/overview").get_data(as_text=True)
    assert "You also have €25.00 credit from an earlier payment." in overview


def test_credit_alone_is_not_a_debt(client, create_customer, create_credit, login):
    customer = create_customer(language="nl")
    create_credit(customer, 1250)
    login(client, customer)
    overview = client.get("/overview", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert re.search(r"Je hebt €\s12,50 tegoed bij ons", overview)
    assert "Te betalen" not in overview and "Nu betalen" not in overview


def test_overdue_flips_at_the_customers_midnight(session, create_customer, create_invoice):
    far_east = create_customer(time_zone="Pacific/Auckland")
    here = create_customer(time_zone="Europe/Amsterdam")
    for customer in (far_east, here):
        create_invoice(customer, issue_date=date(2026, 11, 1), due_date=date(2026, 11, 15))
    # 12:30 UTC on the 15th is already the 16th in Auckland, still the 15th in Amsterdam.
    with time_machine.travel(datetime(2026, 11, 15, 12, 30, tzinfo=UTC), tick=False):
        assert balance_of(session, far_east).overdue == {"EUR": 3025}
        assert balance_of(session, here).overdue == {}


@pytest.fixture()
def held_invoices():
    """A pause reason registered as a feature would: invoices whose number starts with HOLD- are paused."""
    register_pause_reason("test_hold", lambda at: Invoice.number.startswith("HOLD-"))
    yield
    unregister_pause_reason("test_hold")


def test_nothing_pauses_dunning_until_a_feature_says_so(session, create_customer, create_invoice):
    invoice = create_invoice(create_customer(), number="HOLD-1")
    assert pause_reason(session, invoice, clock.now()) is None


def test_a_registered_reason_pauses_its_invoices_and_the_set_based_run_skips_them(
    session, create_customer, create_invoice, held_invoices
):
    customer = create_customer()
    held = create_invoice(customer, number="HOLD-2", due_date=date(2026, 10, 15))
    due = create_invoice(customer, number="F-DUE", due_date=date(2026, 10, 15))
    now = clock.now()
    assert pause_reason(session, held, now) == "test_hold"
    assert pause_reason(session, due, now) is None
    remindable = {row.id for row in session.execute(dunnable_invoices(now, date(2026, 11, 1)))}
    assert due.id in remindable and held.id not in remindable
    assert session.scalar(select(func.count()).select_from(dunnable_invoices(now, date(2026, 10, 1)).subquery())) == 0


def test_a_reason_cannot_be_registered_twice(held_invoices):
    with pytest.raises(RuntimeError):
        register_pause_reason("test_hold", lambda at: Invoice.id.is_(None))
