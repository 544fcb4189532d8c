"""The staff queue of failed debits: newest first, open or handled, each with its reason, attempt, the
customer's choice and the invoice; in the staff menu for every role."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from portal.debits.models import Debit
from portal.invoices.models import Invoice
from tests.debits.staff_support import AM04_IBAN, DECEMBER_15, period_invoice, run_at, text_of

QUEUE = "/staff/debits/failed"
JANUARY_12 = datetime(2027, 1, 12, 9, tzinfo=UTC)


@pytest.fixture()
def two_failures(app, session, create_customer, create_invoice, create_direct_debit):
    """Two customers whose January debits fail with AM04: Ruud's on 4 January, then Noor's on 11 January."""
    ruud = create_customer(name="Ruud Bakker", language="en")
    noor = create_customer(name="Noor El Amrani", language="nl")
    create_direct_debit(ruud, day=4, first_period="2027-01", iban=AM04_IBAN)
    create_direct_debit(noor, day=11, first_period="2027-01", iban=AM04_IBAN, amount_cents=5025)
    ruud_invoice = period_invoice(create_invoice, ruud, 1, number="DD-RUUD-01")
    noor_invoice = period_invoice(create_invoice, noor, 1, number="DD-NOOR-01")
    for day in (15, 22):
        run_at(app, session, DECEMBER_15.replace(day=day), date(2026, 12, day))
    failed = []
    for day in (4, 11):
        _notified, report = run_at(app, session, datetime(2027, 1, day, 9, tzinfo=UTC), date(2027, 1, day))
        failed += report.failed
    ruud_debit, noor_debit = (session.get(Debit, debit_id) for debit_id in failed)
    assert ruud_debit.customer_id == ruud.id and noor_debit.customer_id == noor.id
    return {"ruud": (ruud, ruud_debit, ruud_invoice), "noor": (noor, noor_debit, noor_invoice)}


def _rows(html):
    body = html.split('class="failed-debits"', 1)[1].split("</tbody>", 1)[0].split("<tbody>", 1)[1]
    return [row for row in body.split("<tr>")[1:]]


@pytest.mark.parametrize(
    ("language", "ruud_texts", "noor_texts"),
    [
        ("en", ["January 2027", "4 Jan 2027", "€84.70", "AM04", "not enough money"], ["11 Jan 2027", "€50.25"]),
        ("nl", ["januari 2027", "4 jan 2027", "€ 84,70", "AM04"], ["11 jan 2027", "€ 50,25"]),
    ],
)
def test_the_queue_shows_open_failures_newest_first_with_all_a_caller_needs(
    client, session, two_failures, staff_login, language, ruud_texts, noor_texts
):
    ruud, ruud_debit, ruud_invoice = two_failures["ruud"]
    noor, _noor_debit, noor_invoice = two_failures["noor"]
    ruud_debit = session.get(Debit, ruud_debit.id)
    ruud_debit.choice = "retry"
    ruud_debit.choice_details = {"on": "2027-01-14"}
    ruud_debit.chosen_at = datetime(2027, 1, 5, 8, tzinfo=UTC)
    session.commit()

    with time_machine.travel(JANUARY_12, tick=False):
        staff_login(client, "viewer", language=language)
        html = client.get(QUEUE).get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    first, second = _rows(html)
    assert "Noor El Amrani" in first and "Ruud Bakker" in second, "the newest failure first"
    for text in noor_texts:
        assert text in text_of(first), text
    for text in ruud_texts:
        assert text in text_of(second), text
    assert f'href="/staff/customers/{ruud.id}#direct-debit"' in second
    assert f'href="/staff/customers/{noor.id}/invoices/{noor_invoice.number}"' in first
    assert ruud_invoice.number in second and "2027-01-14" in second
    assert re.search(r'<td class="num">1</td>', second), "the attempt"
    assert re.search(r'<a href="/staff/debits/failed"[^>]*aria-current="page"', html), "in the staff menu"
    if language == "en":
        assert "A new debit date" in second and "Nothing yet" in first


def test_a_failure_whose_invoice_was_paid_or_that_was_retried_moves_to_handled(
    client, session, two_failures, staff_login
):
    ruud, ruud_debit, ruud_invoice = two_failures["ruud"]
    noor, noor_debit, _noor_invoice = two_failures["noor"]
    paid = session.get(Invoice, ruud_invoice.id)
    paid.state, paid.paid_cents = "paid", paid.total_cents  # Ruud paid with iDEAL after the failure
    retried = session.get(Debit, noor_debit.id)
    retried.state, retried.attempt = "notified", 2  # Noor picked a new date: the same debit, a second attempt
    session.commit()

    with time_machine.travel(JANUARY_12, tick=False):
        staff_login(client, "viewer", language="en")
        still_open = client.get(QUEUE).get_data(as_text=True)
        handled = client.get(f"{QUEUE}?show=handled").get_data(as_text=True)
    assert "No failed debits are waiting." in still_open and "Ruud Bakker" not in still_open
    rows = _rows(handled)
    assert [("Noor El Amrani" in row, "Ruud Bakker" in row) for row in rows] == [(True, False), (False, True)]
    assert "Announced" in rows[0] and re.search(r'<td class="num">2</td>', rows[0])
    assert "Paid" in rows[1]
    assert '<option value="handled" selected>' in handled


def test_an_unknown_filter_shows_the_open_ones(client, two_failures, staff_login):
    with time_machine.travel(JANUARY_12, tick=False):
        staff_login(client, "agent", language="en")
        html = client.get(f"{QUEUE}?show=<script>&page=-3").get_data(as_text=True)
    assert len(_rows(html)) == 2 and "<script>" not in html.split('<main id="main"', 1)[1]


@pytest.mark.parametrize("role", ["viewer", "agent", "supervisor", "admin"])
def test_every_role_has_the_queue_in_the_menu(client, session, staff_login, role):
    staff_login(client, role, language="nl")
    html = client.get("/staff/account").get_data(as_text=True)
    assert f'href="{QUEUE}"' in html


def test_the_queue_is_for_staff_only(client, session):
    answer = client.get(QUEUE)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/staff/login")
