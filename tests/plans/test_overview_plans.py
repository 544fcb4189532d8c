"""The overview and invoice page with plans and promises: the labels on the invoices, the plan section with
what is due now, the links to more time and help, and still only a few statements more per overview."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask, url_for
from sqlalchemy import event

from portal.plans.promises import make_promise
from portal.plans.template_helpers import has_endpoint
from tests.plans.overview_support import DEBTOR, page_text, propose

DEC_20 = datetime(2026, 12, 20, 9, tzinfo=UTC)
BIG = [("Stroom", "1000", "kWh", "0.25000", "21")]  # €302.50: three instalments inside the consumer policy


@pytest.fixture()
def statements(app: Flask) -> Iterator[Callable[[], int]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = app.extensions["portal_db_engine"]
    event.listen(engine, "before_cursor_execute", count)
    yield lambda: len(seen)
    event.remove(engine, "before_cursor_execute", count)


@pytest.fixture()
def at_dec_20() -> Iterator[None]:
    with time_machine.travel(DEC_20, tick=False):
        yield


def _overdue(create_invoice, customer, number: str, **extra: Any):
    return create_invoice(customer, number=number, lines=BIG, due_date=date(2026, 11, 15), **extra)


def test_a_running_plan_labels_its_invoices_and_shows_the_next_instalment(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    _overdue(create_invoice, customer, "R-1")
    _overdue(create_invoice, customer, "R-2")  # not in the plan: still overdue
    plan = propose(app, session, customer, ["R-1"], instalments=3, first=date(2027, 1, 5))
    assert plan.status == "active"
    login(client, customer)
    text = page_text(client.get("/overview"))
    assert "Invoice R-1 €302.50 In a payment plan" in text
    assert "Invoice R-2 €302.50 Overdue" in text
    assert "1 of them is past its due date" in text, "the invoice in the plan is not counted as late"
    assert "Payment plan 3 instalments of €302.50 in total, every month." in text
    assert "Paid so far €0.00 Still to pay €302.50 Next instalment €100.83 on 5 January 2027" in text
    assert "Due now" not in text
    assert f'href="/plan/{plan.id}/pay"' in client.get("/overview").get_data(as_text=True)
    invoice_page = page_text(client.get("/invoices/R-1"))
    assert "In a payment plan" in invoice_page and "Overdue" not in invoice_page
    assert f"This invoice is in your payment plan {plan.reference}." in invoice_page


def test_an_instalment_due_today_is_due_now_with_a_pay_button(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    _overdue(create_invoice, customer, "D-1")
    plan = propose(app, session, customer, ["D-1"], instalments=3, first=date(2026, 12, 20))
    login(client, customer)
    html = client.get("/overview").get_data(as_text=True)
    text = page_text(client.get("/overview"))
    assert "Due now €100.83 Pay €100.83" in text
    assert f'<a class="button" href="/plan/{plan.id}/pay">' in html


def test_a_plan_paid_by_direct_debit_offers_no_pay_button(
    app, session, create_customer, create_invoice, create_direct_debit, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    create_direct_debit(customer, reference=f"UMR-OVERVIEW-{customer.id}")
    _overdue(create_invoice, customer, "DD-1")
    plan = propose(app, session, customer, ["DD-1"], instalments=3, first=date(2026, 12, 20), method="direct_debit")
    login(client, customer)
    text = page_text(client.get("/overview"))
    assert "Due now €100.83" in text and "We collect each instalment by direct debit." in text
    assert f"/plan/{plan.id}/pay" not in client.get("/overview").get_data(as_text=True)
    refused = page_text(client.get(f"/plan/{plan.id}/pay"))
    assert "We collect the instalments of this plan by direct debit, so there is nothing to pay here." in refused


def test_a_direct_debit_plan_without_a_usable_mandate_is_paid_here(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    """The mandate was stopped after the plan was agreed: nothing will collect it, so the debtor pays here."""
    customer = create_customer(language="en")
    _overdue(create_invoice, customer, "DD-2")
    plan = propose(app, session, customer, ["DD-2"], instalments=3, first=date(2026, 12, 20), method="direct_debit")
    login(client, customer)
    text = page_text(client.get("/overview"))
    assert "We could not collect this instalment by direct debit. Please pay it here." in text
    assert f'<a class="button" href="/plan/{plan.id}/pay">' in client.get("/overview").get_data(as_text=True)


def test_a_proposal_waiting_for_staff_says_by_when_we_answer(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    _overdue(create_invoice, customer, "W-1")
    plan = propose(app, session, customer, ["W-1"], instalments=12, first=date(2027, 1, 5))
    assert plan.status == "proposed" and plan.answer_by is not None
    answer_by = f"{plan.answer_by.day} {plan.answer_by:%B %Y}"
    login(client, customer)
    text = page_text(client.get("/overview"))
    assert f"Invoice W-1 €302.50 Plan proposed, we answer by {answer_by}" in text
    assert f"Your proposal is with our team. You will hear from us by {answer_by}." in text
    assert "past its due date" not in text
    assert f"Plan proposed, we answer by {answer_by}" in page_text(client.get("/invoices/W-1"))


def test_a_promised_invoice_says_by_when(app, session, create_customer, create_invoice, login, client, at_dec_20):
    customer = create_customer(language="en")
    _overdue(create_invoice, customer, "V-1")
    with app.test_request_context():
        make_promise(session, customer, ["V-1"], date(2026, 12, 30), actor=DEBTOR)
        session.commit()
    login(client, customer)
    text = page_text(client.get("/overview"))
    assert "Invoice V-1 €302.50 You promised to pay by 30 December 2026" in text
    assert "You promised to pay €302.50 by 30 December 2026. Until then we send you no reminders" in text
    invoice_page = page_text(client.get("/invoices/V-1"))
    assert "You promised to pay by 30 December 2026" in invoice_page and "Overdue" not in invoice_page


def test_plans_and_promises_cost_the_overview_few_statements(
    app, session, create_customer, create_invoice, login, client, statements, at_dec_20
) -> None:
    plain = create_customer(language="en")
    _overdue(create_invoice, plain, "S-1")
    busy = create_customer(language="en")
    for number in ("S-2", "S-3", "S-4"):
        _overdue(create_invoice, busy, number)
    propose(app, session, busy, ["S-2"], instalments=3, first=date(2026, 12, 20))
    propose(app, session, busy, ["S-3"], instalments=12, first=date(2027, 1, 5))
    with app.test_request_context():
        make_promise(session, busy, ["S-4"], date(2026, 12, 30), actor=DEBTOR)
        session.commit()
    counts = []
    for customer in (plain, busy):
        login(client, customer)
        client.get("/overview")  # the first visit writes the visit; the second is the one counted
        before = statements()
        assert client.get("/overview").status_code == 200
        counts.append(statements() - before)
    # Without plans: one statement finds there are none. With them: the plans, the promises, whether any invoice is
    # left that can still have more time, and (an instalment being due) whether a payment for it is on its way.
    # Never one per invoice or instalment.
    assert counts[1] - counts[0] == 4, counts


def test_more_time_and_help_are_offered_beside_what_is_owed(
    session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    _overdue(create_invoice, customer, "L-1")
    login(client, customer)
    overview = client.get("/overview").get_data(as_text=True)
    assert 'href="/cannot-pay"' in overview and "I cannot pay. Where can I get help?" in overview
    assert 'href="/promise"' in overview and "I can pay, but a little later" in overview
    invoice_page = client.get("/invoices/L-1").get_data(as_text=True)
    assert 'href="/promise?invoice=L-1"' in invoice_page and 'href="/cannot-pay"' in invoice_page


def test_has_endpoint_tells_an_installed_page_from_a_missing_one(app) -> None:
    with app.app_context():
        assert has_endpoint("debt_help.cannot_pay") and has_endpoint("plan_payments.pay")
        assert not has_endpoint("plans.no_such_page")


# The payment plan pages (plans.start, plans.show) are another part of this feature; these links appear once
# they are installed, on the overview, on an overdue invoice and in the pay page's part-payment hint.
def test_the_payment_plan_is_offered_from_the_overview_an_overdue_invoice_and_the_pay_page(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    _overdue(create_invoice, customer, "M-1")
    login(client, customer)
    with app.test_request_context():
        everything, this_one = url_for("plans.start"), url_for("plans.start", invoice="M-1")
    overview = client.get("/overview").get_data(as_text=True)
    assert f'href="{everything}"' in overview and f'href="{this_one}"' in overview
    assert "I need more time: pay in instalments" in overview
    assert f'href="{this_one}"' in client.get("/invoices/M-1").get_data(as_text=True)
    pay_page = client.get("/pay").get_data(as_text=True)
    assert f'<a href="{everything}">ask for a payment plan</a>' in pay_page


def test_pages_with_a_plan_ask_once_whether_more_time_can_be_had(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    # The view reads the plans and hands their answer to its templates (more_time_links): the template asks nothing
    # again, after the page's commit. One customer: a plan for one invoice, another still free to have one.
    customer = create_customer(language="en")
    for number in ("E-1", "E-2"):
        _overdue(create_invoice, customer, number)
    propose(app, session, customer, ["E-1"], instalments=3, first=date(2026, 12, 20))
    login(client, customer)
    client.get("/overview")
    asked: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("SELECT EXISTS (SELECT invoices.id"):
            asked.append(statement)

    engine = app.extensions["portal_db_engine"]
    event.listen(engine, "before_cursor_execute", note)
    try:
        for page, offered in (("/overview", "/promise"), ("/invoices/E-2", "/promise?invoice=E-2"), ("/pay", "/plan")):
            asked.clear()
            text = client.get(page).get_data(as_text=True)
            assert f'href="{offered}' in text, page
            assert len(asked) == 1, (page, asked)
    finally:
        event.remove(engine, "before_cursor_execute", note)
