"""One invoice is "this invoice", not "these invoices": the promise and plan pages, the overview's plan part and
their e-mails, in English and Dutch. Several invoices keep the plural (test_promises, test_debtor_proposal)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine

from tests.debits.debtor_pages import messages
from tests.plans.overview_support import page_text, propose, token_on

DEC_20 = datetime(2026, 12, 20, 9, tzinfo=UTC)
BIG = [("Stroom", "1000", "kWh", "0.25000", "21")]  # €302.50: three instalments inside the consumer policy


@pytest.fixture()
def at_dec_20() -> Iterator[None]:
    with time_machine.travel(DEC_20, tick=False):
        yield


def _one_overdue(create_customer, create_invoice, language: str):
    customer = create_customer(language=language, email="pat@example.com")
    create_invoice(customer, number="E-1", lines=BIG, due_date=date(2026, 11, 15))
    return customer


def _promise(client, numbers: list[str], on: str):
    token = token_on(client.get("/promise").get_data(as_text=True))
    return client.post("/promise", data={"csrf_token": token, "invoice": numbers, "promised_on": on})


def test_a_promise_for_one_invoice_speaks_of_this_invoice(
    session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = _one_overdue(create_customer, create_invoice, "en")
    login(client, customer)
    form = page_text(client.get("/promise"))
    assert "Which invoice do you promise to pay?" in form
    assert "Until that date we send you no reminders for this invoice. If it is not paid by then" in form
    assert "these invoices" not in form and "If they are" not in form

    made = _promise(client, ["E-1"], "2026-12-30")
    assert made.status_code == 303
    thanks = page_text(client.get(made.headers["Location"]))
    assert "Until 30 December 2026 we send you no reminders for this invoice. If it is not paid by then" in thanks
    assert "these invoices" not in thanks
    [mail] = messages(session, customer, "promise_made")
    assert "Until that date we send you no reminders for this invoice. If it is not paid by then" in mail.body_text
    assert "these invoices" not in mail.body_text

    overview = page_text(client.get("/overview"))
    assert "Until then we send you no reminders for this invoice." in overview
    assert "these invoices" not in overview


def test_in_dutch_one_promised_invoice_is_deze_factuur(
    session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = _one_overdue(create_customer, create_invoice, "nl")
    login(client, customer)
    form = page_text(client.get("/promise"))
    assert "Welke factuur beloof je te betalen?" in form
    assert "Tot die datum sturen we je geen herinneringen voor deze factuur. Is hij dan nog niet betaald" in form
    assert "deze facturen" not in form

    made = _promise(client, ["E-1"], "2026-12-30")
    thanks = page_text(client.get(made.headers["Location"]))
    assert "sturen we je geen herinneringen voor deze factuur. Is hij dan nog niet betaald" in thanks
    assert "deze facturen" not in thanks
    [mail] = messages(session, customer, "promise_made")
    assert "Tot die datum sturen we je geen herinneringen voor deze factuur." in mail.body_text


def test_a_plan_for_one_invoice_speaks_of_this_invoice(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = _one_overdue(create_customer, create_invoice, "en")
    login(client, customer)
    start = page_text(client.get("/plan"))
    assert "Which invoice " in start and "Which invoices" not in start
    assert "Choose how you want to pay, and you see your schedule" in start

    waiting = propose(app, session, customer, ["E-1"], instalments=12, first=date(2027, 1, 5))
    assert waiting.status == "proposed"
    page = page_text(client.get(f"/plan/{waiting.id}"))
    assert "Until then we send no reminders for this invoice." in page and "these invoices" not in page
    overview = page_text(client.get("/overview"))
    assert "Until then we send you no reminders for this invoice." in overview
    [mail] = messages(session, customer, "plan_proposed")
    assert "Until then we send no reminders for this invoice." in mail.body_text


def test_a_running_plan_for_one_invoice_in_dutch(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = _one_overdue(create_customer, create_invoice, "nl")
    plan = propose(app, session, customer, ["E-1"], instalments=3, first=date(2027, 1, 5))
    assert plan.status == "active"
    login(client, customer)
    page = page_text(client.get(f"/plan/{plan.id}"))
    assert "Zolang je je aan de regeling houdt, sturen we geen herinneringen voor deze factuur." in page
    assert "deze facturen" not in page
    # The agreement e-mail speaks the language of the agreement (English here, see overview_support.CONSENT).
    [mail] = messages(session, customer, "plan_agreed")
    assert "While you keep to it, we send no reminders for this invoice." in mail.body_text
