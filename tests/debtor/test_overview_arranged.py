"""The overview asks only for what is left to pay now: what a direct debit will collect and what a payment plan or a
promise to pay covers is owed, and said so beside the total, but it is not in "Pay now", the bank transfer or its
QR code. When nothing is left, the page says so and offers no way to pay it twice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine

from portal.debits.jobs import prenotify_all
from portal.debits.overview import collection_dates, schedule_with_debits
from portal.disputes.services import Choice, open_dispute
from portal.invoices.models import Invoice
from portal.plans.promises import make_promise
from portal.storage import file_store
from tests.debits.debtor_pages import text_of
from tests.fixtures.factories import TEST_ACTOR
from tests.plans.overview_support import DEBTOR, propose

DEC_20 = datetime(2026, 12, 20, 9, tzinfo=UTC)
BIG = [("Stroom", "1000", "kWh", "0.25000", "21")]  # €302.50: three instalments inside the consumer policy
PAY_NOW = '<a class="button" href="/pay">'


@pytest.fixture()
def at_dec_20() -> Iterator[None]:
    with time_machine.travel(DEC_20, tick=False):
        yield


def _january_invoice(create_invoice: Any, customer: Any, **overrides: Any) -> Any:
    """An invoice a debit on day 1 collects: on 4 January 2027 (the first TARGET day), once pre-notified."""
    fields = {"issue_date": date(2026, 12, 1), "due_date": date(2026, 12, 15), "period_start": date(2027, 1, 1)}
    return create_invoice(customer, **{**fields, **overrides})


def _on_debit(app: Any, session: Any, create_direct_debit: Any, customer: Any) -> None:
    create_direct_debit(customer, day=1, first_period="2027-01")
    with app.app_context():
        prenotify_all(session, today=date(2026, 12, 20))


def _overdue(create_invoice: Any, customer: Any, number: str) -> Any:
    return create_invoice(customer, number=number, lines=BIG, due_date=date(2026, 11, 15))


def _transfer(html: str) -> tuple[str, str] | None:
    """The bank transfer's amount and reference as the page shows them, or None when it shows none."""
    if "Pay by bank transfer" not in html and "Betalen met een overboeking" not in html:
        return None
    text = text_of(html)
    amount = re.search(r"(?:Amount|Bedrag) (€ ?[\d.,]+)", text)
    reference = re.search(r"(?:Reference|Omschrijving) (\S+(?: \S+)*?) (?:Copy|Kopiëren)", text)
    assert amount and reference, text
    return amount.group(1), reference.group(1)


def _qr_matches_the_page(client: Any, html: str) -> None:
    """The QR code the page shows is drawn for the same transfer the page states (its ETag names the transfer)."""
    found = re.search(r'<img src="/qr/overview/EUR\?v=(\w+)"', html)
    assert found, "no QR code on the page"
    response = client.get("/qr/overview/EUR")
    assert response.status_code == 200 and response.headers["ETag"].strip('"') == found.group(1)


def test_what_a_direct_debit_collects_is_said_and_only_the_rest_is_asked_for(
    app, session, create_customer, create_invoice, create_direct_debit, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    collected = _january_invoice(create_invoice, customer)
    create_invoice(customer, number="OTHER-1", issue_date=date(2026, 12, 1), due_date=date(2026, 12, 30))
    _on_debit(app, session, create_direct_debit, customer)
    login(client, customer)

    html = client.get("/overview").get_data(as_text=True)
    text = text_of(html)

    assert "You owe €60.50" in text, "the total still says everything that is owed"
    assert (
        "Of this, €30.25 will be collected by direct debit on 4 January 2027. You do not need to do anything for it."
    ) in text
    assert "Left to pay now: €30.25" in text
    assert f"Invoice {collected.number} €30.25 Will be collected on 4 January 2027" in text
    assert PAY_NOW in html
    assert _transfer(html) == ("€30.25", "OTHER-1")
    _qr_matches_the_page(client, html)


def test_when_a_direct_debit_collects_everything_nothing_is_asked_for(
    app, session, create_customer, create_invoice, create_direct_debit, login, client, at_dec_20
) -> None:
    customer = create_customer(language="nl")
    _january_invoice(create_invoice, customer)
    _on_debit(app, session, create_direct_debit, customer)
    login(client, customer)

    html = client.get("/overview").get_data(as_text=True)
    text = text_of(html)

    assert "Openstaand € 30,25" in text
    assert "Daarvan wordt € 30,25 op 4 januari 2027 automatisch geïncasseerd. Daarvoor hoef je niets te doen." in text
    assert "Je hoeft nu niets te betalen." in text
    assert PAY_NOW not in html and "Nu betalen" not in text
    assert _transfer(html) is None and "/qr/overview/" not in html
    assert client.get("/qr/overview/EUR").status_code == 404, "no QR code for an amount nobody is asked to pay"


def test_what_a_payment_plan_covers_is_paid_as_agreed_and_only_the_rest_is_asked_for(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    _overdue(create_invoice, customer, "R-1")
    _overdue(create_invoice, customer, "R-2")
    plan = propose(app, session, customer, ["R-1"], instalments=3, first=date(2027, 1, 5))
    assert plan.status == "active"
    login(client, customer)

    html = client.get("/overview").get_data(as_text=True)
    text = text_of(html)

    assert "You owe €605.00" in text
    assert (
        "Of this, €302.50 is in your payment plan. You pay it as agreed, in instalments; nothing else is needed for it."
    ) in text
    assert "Left to pay now: €302.50" in text
    assert "1 of them is past its due date" in text
    assert _transfer(html) == ("€302.50", "R-2")
    _qr_matches_the_page(client, html)


def test_a_plan_covering_everything_leaves_nothing_to_pay_now_but_its_instalment(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    _overdue(create_invoice, customer, "D-1")
    plan = propose(app, session, customer, ["D-1"], instalments=3, first=date(2026, 12, 20))
    login(client, customer)

    html = client.get("/overview").get_data(as_text=True)
    text = text_of(html)

    assert "You owe €302.50 Of this, €302.50 is in your payment plan." in text
    assert "You have nothing to pay right now." in text
    assert PAY_NOW not in html and _transfer(html) is None
    # The instalment due today is paid from the plan's own section, for its own amount.
    assert "Due now €100.83 Pay €100.83" in text and f'href="/plan/{plan.id}/pay"' in html


def test_a_proposed_plan_is_not_asked_for_while_we_look_at_it(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    _overdue(create_invoice, customer, "W-1")
    plan = propose(app, session, customer, ["W-1"], instalments=12, first=date(2027, 1, 5))
    assert plan.status == "proposed"
    login(client, customer)

    html = client.get("/overview").get_data(as_text=True)
    text = text_of(html)

    assert (
        "Of this, €302.50 is in the payment plan you asked for. Until we have agreed on it, you do not need to pay it."
    ) in text
    assert "You have nothing to pay right now." in text
    assert PAY_NOW not in html and _transfer(html) is None


def test_what_a_promise_covers_is_paid_by_its_date_and_only_the_rest_is_asked_for(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="nl")
    _overdue(create_invoice, customer, "V-1")
    _overdue(create_invoice, customer, "V-2")
    with app.test_request_context():
        make_promise(session, customer, ["V-1"], date(2026, 12, 30), actor=DEBTOR)
        session.commit()
    login(client, customer)

    html = client.get("/overview").get_data(as_text=True)
    text = text_of(html)

    assert "Openstaand € 605,00" in text
    assert "Daarvan valt € 302,50 onder je betaalbelofte: betaal het uiterlijk 30 december 2026." in text
    assert "Nu nog te betalen: € 302,50" in text
    assert PAY_NOW in html
    assert _transfer(html) == ("€ 302,50", "V-2")
    _qr_matches_the_page(client, html)


def test_a_promise_covering_everything_is_still_the_debtors_to_pay_by_its_date(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    # A promise is "I pay by then": the debtor still pays it themselves, so the page gives them the way to.
    customer = create_customer(language="en")
    _overdue(create_invoice, customer, "V-3")
    with app.test_request_context():
        make_promise(session, customer, ["V-3"], date(2026, 12, 30), actor=DEBTOR)
        session.commit()
    login(client, customer)

    html = client.get("/overview").get_data(as_text=True)
    text = text_of(html)

    assert "All of it is in your promise to pay: pay it by 30 December 2026." in text
    assert "nothing to pay" not in text and "nothing else is needed" not in text
    assert PAY_NOW in html and _transfer(html) == ("€302.50", "V-3")
    _qr_matches_the_page(client, html)
    assert 'href="/pay?invoice=V-3"' in html


def test_a_promise_part_paid_says_what_of_it_is_still_open(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="nl")
    first = _overdue(create_invoice, customer, "V-4")
    _overdue(create_invoice, customer, "V-5")
    with app.test_request_context():
        promise = make_promise(session, customer, ["V-4", "V-5"], date(2026, 12, 30), actor=DEBTOR)
        session.commit()
        invoice = session.get(Invoice, first.id)
        invoice.paid_cents, invoice.state = invoice.total_cents, "paid"
        session.commit()
    login(client, customer)

    text = text_of(client.get("/overview").get_data(as_text=True))
    assert "Je hebt beloofd € 605,00 te betalen" in text and "Daarvan staat nog € 302,50 open." in text
    assert "Alles valt onder je betaalbelofte: betaal het uiterlijk 30 december 2026." in text
    made = text_of(client.get(f"/promise/{promise.id}").get_data(as_text=True))
    assert "Factuur V-4: € 302,50 · betaald" in made and "Factuur V-5: € 302,50 · betaald" not in made


def test_a_disputed_invoice_is_not_collected_by_its_debit_so_its_rest_is_asked_for(
    app, session, create_customer, create_invoice, create_direct_debit, login, client, at_dec_20
) -> None:
    lines = [("Stroom", "100", "kWh", "0.25000", "21"), ("Vastrecht", "1", "maand", "10.00000", "21")]
    customer = create_customer(language="en")
    invoice = _january_invoice(create_invoice, customer, lines=lines)  # €42.35
    _on_debit(app, session, create_direct_debit, customer)
    login(client, customer)
    assert "Of this, €42.35 will be collected by direct debit on 4 January 2027." in text_of(
        client.get("/overview").get_data(as_text=True)
    )
    disputed = session.get(Invoice, invoice.id)
    with app.app_context():  # €12.10 on hold (its second line): the debit does not collect this invoice
        line = next(line.id for line in disputed.lines if line.position == 2)
        open_dispute(
            session,
            file_store(app.config),
            disputed.customer,
            Choice([invoice.number], {line}),
            reason="amount_wrong",
            explanation="The fixed charge is twice.",
            uploads=[],
            actor=TEST_ACTOR,
        )
        session.commit()
    # The debit stays announced (its run skips the invoice), so the page must not count on it.
    schedule = schedule_with_debits(session, customer.id)
    assert collection_dates(schedule, [session.get(Invoice, invoice.id)]) == {invoice.number: date(2027, 1, 4)}

    html = client.get("/overview").get_data(as_text=True)
    text = text_of(html)

    assert "Of this, €12.10 is on hold while we look into your question. You pay the rest." in text
    assert "will be collected by direct debit" not in text
    assert PAY_NOW in html and _transfer(html) == ("€30.25", invoice.number)
