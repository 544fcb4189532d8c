"""Switching to direct debit in the portal, through the demo provider: choose a day, pay, see the direct debit."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from portal.debits.models import DebitSchedule, DebitSwitch, Mandate
from portal.payments.models import Payment
from tests.fixtures.factories import csrf_token


@pytest.fixture(autouse=True)
def _first_of_december():
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False):
        yield


def _december_invoice(create_invoice, customer, number="2026-0100"):
    return create_invoice(
        customer,
        number=number,
        issue_date=date(2026, 11, 25),
        due_date=date(2026, 12, 9),
        period_start=date(2026, 12, 1),
        period_end=date(2026, 12, 31),
    )


def _switch(client: Any, invoice: str, day: int | str, token: str | None = None) -> Any:
    token = token or csrf_token(client, "/debits/switch")
    return client.post("/debits/switch", data={"csrf_token": token, "invoice": invoice, "day": str(day)})


def _decide(client: Any, checkout_url: str, outcome: str) -> Any:
    path = checkout_url.removeprefix("http://localhost")
    return client.post(f"{path}/{outcome}", data={"csrf_token": csrf_token(client, path)})


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _mandates(session, customer) -> list[Mandate]:
    session.expire_all()
    return list(session.scalars(select(Mandate).where(Mandate.customer_id == customer.id)))


def test_a_customer_switches_with_a_first_payment_and_sees_the_first_collection(
    client, session, create_customer, create_invoice, login
):
    customer = create_customer(external_ref="C-7001", name="Fatima Yilmaz", language="en")
    invoice = _december_invoice(create_invoice, customer)
    login(client, customer)

    pay_page = _text(client.get("/pay"))
    assert "Switch to direct debit" in pay_page and 'href="/debits/switch"' in pay_page
    page = _text(client.get("/debits/switch"))
    assert "Pay by direct debit" in page and "at least 14 days before" in page

    started = _switch(client, invoice.number, 15)
    assert started.status_code == 303 and "/demo-checkout/demo_" in started.headers["Location"]
    back = _decide(client, started.headers["Location"], "paid")
    assert back.headers["Location"].startswith("http://localhost/debits/switch/")
    done = _text(client.get(back.headers["Location"].removeprefix("http://localhost")))

    total = f"€{invoice.total_cents // 100:,}.{invoice.total_cents % 100:02d}"
    assert "Direct debit is set up" in done
    assert "Day 15 of each month" in done
    assert f"{total} on 15 January 2027" in done, "the first collection: January, as December is paid now"
    assert "NL32 **** 1234" in done and "C-7001-DD-01" in done
    assert "stop it on your overview" in done
    [mandate] = _mandates(session, customer)
    assert (mandate.status, mandate.collector, mandate.reference) == ("active", "demo", "C-7001-DD-01")
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    assert payment.method == "directdebit" and payment.state == "paid"
    assert mandate.provider_mandate_id == payment.mandate_reference and mandate.provider_mandate_id.startswith("mdt_")
    schedule = session.scalars(select(DebitSchedule).where(DebitSchedule.mandate_id == mandate.id)).one()
    assert (schedule.day_of_month, schedule.amount_cents, schedule.first_period) == (15, invoice.total_cents, "2027-01")
    assert "Switch to direct debit" not in _text(client.get("/pay")), "no offer to someone already switched"


def test_clicking_twice_makes_one_payment_and_never_two_mandates(
    client, session, create_customer, create_invoice, login
):
    customer = create_customer(external_ref="C-7002", language="en")
    invoice = _december_invoice(create_invoice, customer)
    login(client, customer)

    stale_tab = csrf_token(client, "/debits/switch")  # the page still open in another tab
    first = _switch(client, invoice.number, 5)
    second = _switch(client, invoice.number, 20)
    assert first.headers["Location"] == second.headers["Location"], "the same checkout, not a second payment"
    switch = session.scalars(select(DebitSwitch)).one()
    assert switch.day_of_month == 20, "the day chosen last counts"

    back = _decide(client, second.headers["Location"], "paid")
    done_path = back.headers["Location"].removeprefix("http://localhost")
    assert "Day 20 of each month" in _text(client.get(done_path))
    client.get(done_path)  # the return page again, as a reload does
    checkout_id = second.headers["Location"].rsplit("/", 1)[-1]
    webhook = client.post("/webhooks/demo", data={"id": checkout_id})  # and the provider's late notice
    assert webhook.status_code < 300

    again = _switch(client, invoice.number, 20, token=stale_tab)
    assert again.status_code == 400
    assert "You already pay by direct debit" in _text(again)
    assert len(_mandates(session, customer)) == 1
    assert len(session.scalars(select(Payment).where(Payment.customer_id == customer.id)).all()) == 1


def test_a_failed_first_payment_sets_up_nothing(client, session, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    invoice = _december_invoice(create_invoice, customer)
    login(client, customer)

    started = _switch(client, invoice.number, 10)
    back = _decide(client, started.headers["Location"], "failed")
    done = _text(client.get(back.headers["Location"].removeprefix("http://localhost")))

    assert "The payment did not go through" in done
    assert "no direct debit was set up" in done
    assert _mandates(session, customer) == []
    assert "Switch to direct debit" in _text(client.get("/pay")), "they can try again"


def test_only_an_allowed_day_can_be_chosen(client, session, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    invoice = _december_invoice(create_invoice, customer)
    login(client, customer)

    refused = _switch(client, invoice.number, 29)

    assert refused.status_code == 400
    assert "That day cannot be chosen. Pick one of the days shown." in _text(refused)
    assert session.scalars(select(Payment)).all() == []


def test_a_customer_on_direct_debit_is_sent_to_the_overview(
    client, create_customer, create_invoice, create_direct_debit, login
):
    customer = create_customer(language="en")
    _december_invoice(create_invoice, customer)
    create_direct_debit(customer)
    login(client, customer)

    assert "Switch to direct debit" not in _text(client.get("/pay"))
    page = _text(client.get("/debits/switch"))
    assert "You already pay by direct debit" in page and "Go to the overview" in page


def test_a_first_payment_still_pending_sets_up_the_direct_debit_once_it_is_paid(
    client, session, create_customer, create_invoice, login
):
    customer = create_customer(language="en")
    invoice = _december_invoice(create_invoice, customer)
    login(client, customer)
    started = _switch(client, invoice.number, 25)
    back = _decide(client, started.headers["Location"], "pending")
    done_path = back.headers["Location"].removeprefix("http://localhost")

    waiting = _text(client.get(done_path))
    assert "Waiting for your bank" in waiting and _mandates(session, customer) == []

    with time_machine.travel(datetime(2026, 12, 1, 9, 1, tzinfo=UTC), tick=False):  # the bank settles
        settled = _text(client.get(done_path))
    assert "Direct debit is set up" in settled and "Day 25 of each month" in settled
    assert len(_mandates(session, customer)) == 1
