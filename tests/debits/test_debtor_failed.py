"""After a failed debit: a banner on the overview, and the choices that follow the bank's reason."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from portal.accounts.pausing import pause_reason
from portal.debits.collectors import DEMO_FAILING_IBANS
from portal.debits.jobs import run_debits
from portal.debits.models import Debit
from portal.events.models import DomainEvent
from portal.invoices.models import Invoice
from tests.debits.debtor_pages import messages, text_of, token_on

IBAN_FOR = {code: iban for iban, code in DEMO_FAILING_IBANS.items()}
JAN_5 = datetime(2027, 1, 5, 9, tzinfo=UTC)


@pytest.fixture()
def failed_debit(app, session, create_customer, create_invoice, create_direct_debit, login, client):
    """A debit of 4 January 2027 that the bank refused with ``code``; the debtor opens their page on the 5th."""

    def make(code: str):
        customer = create_customer(language="en")
        create_direct_debit(customer, day=4, first_period="2027-01", iban=IBAN_FOR[code])
        invoice = create_invoice(
            customer, issue_date=date(2026, 12, 15), due_date=date(2027, 1, 31), period_start=date(2027, 1, 1)
        )
        with app.app_context():
            with time_machine.travel(datetime(2026, 12, 15, 9, tzinfo=UTC), tick=False):
                run_debits(session, today=date(2026, 12, 15))
            with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=UTC), tick=False):
                _, report = run_debits(session, today=date(2027, 1, 4))
        assert len(report.failed) == 1
        debit = session.get(Debit, report.failed[0])
        login(client, customer)
        return customer, invoice, debit

    with time_machine.travel(JAN_5, tick=False):
        yield make


def _choices(session, debit):
    return session.scalars(
        select(DomainEvent).where(DomainEvent.kind == "debit.choice_made", DomainEvent.subject_id == str(debit.id))
    ).all()


def test_the_overview_has_a_banner_that_leads_to_the_choices(failed_debit, client) -> None:
    _customer, _invoice, debit = failed_debit("AM04")
    overview = text_of(client.get("/overview").get_data(as_text=True))
    assert "A direct debit did not go through" in overview
    assert "We could not collect €" in overview and "on 4 January 2027" in overview
    assert f'href="/direct-debit/failed/{debit.id}"' in client.get("/overview").get_data(as_text=True)


def test_not_enough_money_offers_paying_now_with_ideal_or_a_new_date(failed_debit, client) -> None:
    _customer, invoice, debit = failed_debit("AM04")
    html = client.get(f"/direct-debit/failed/{debit.id}").get_data(as_text=True)
    page = text_of(html)
    assert "there was not enough money in the account" in page
    assert f"/pay?invoice={invoice.number}&amp;method=ideal" in html
    assert "Or try again on a date you choose" in page
    # From the first TARGET day after today (Wednesday 6 January) to the end of the retry window.
    assert '<option value="2027-01-06">' in html
    assert '<option value="2027-01-09">' not in html, "a Saturday is no TARGET day"


def test_pay_now_preselects_ideal(failed_debit, client) -> None:
    _customer, invoice, _debit = failed_debit("AM04")
    page = client.get(f"/pay?invoice={invoice.number}&method=ideal").get_data(as_text=True)
    checked = re.findall(r'<input type="radio" name="method" value="(\w+)"[^>]*\bchecked>', page)
    assert checked == ["ideal"]


def test_trying_again_on_a_chosen_date(failed_debit, session, client) -> None:
    customer, invoice, debit = failed_debit("AM04")
    html = client.get(f"/direct-debit/failed/{debit.id}").get_data(as_text=True)
    form = {"csrf_token": token_on(html), "on": "2027-01-11"}
    response = client.post(f"/direct-debit/failed/{debit.id}/retry", data=form)
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "We will try again on 11 January 2027." in page
    # What failed is still the attempt of 4 January, not the new date.
    assert "on 4 January 2027: there was not enough money in the account" in page
    assert "collect" in page and "on 11 January 2027: " not in page
    session.expire_all()
    debit = session.get(Debit, debit.id)
    assert (debit.state, debit.attempt, debit.due_on, debit.payment_id) == ("notified", 2, date(2027, 1, 11), None)
    assert debit.failure_code == "AM04" and debit.choice == "retry"
    assert pause_reason(session, invoice, datetime(2027, 1, 14, tzinfo=UTC)) == "failed_debit"
    assert [event.payload["choice"] for event in _choices(session, debit)] == ["retry"]
    notice = messages(session, customer, "debit_prenotification")[-1]
    assert "11 January 2027" in notice.body_text

    # The same form again (a second click, or a tab left open): nothing more happens, and the page says why.
    again = client.post(f"/direct-debit/failed/{debit.id}/retry", data={**form, "on": "2027-01-12"})
    assert again.status_code == 400
    assert "This debit has not failed, so there is nothing to choose." in text_of(again.get_data(as_text=True))
    session.expire_all()
    assert session.get(Debit, debit.id).due_on == date(2027, 1, 11)
    assert len(_choices(session, debit)) == 1


def test_a_retry_date_outside_the_window_or_on_a_holiday_is_refused(failed_debit, session, client) -> None:
    _customer, _invoice, debit = failed_debit("AM04")
    html = client.get(f"/direct-debit/failed/{debit.id}").get_data(as_text=True)
    for on in ("2027-01-09", "2027-01-05", "2027-03-01", "not a date"):
        response = client.post(f"/direct-debit/failed/{debit.id}/retry", data={"csrf_token": token_on(html), "on": on})
        assert response.status_code == 400
        assert "Pick a date from 6 January 2027 to" in text_of(response.get_data(as_text=True))
    session.expire_all()
    assert session.get(Debit, debit.id).state == "failed"


def test_a_refund_takes_the_debtor_to_the_dispute_form_and_the_dispute_answers_the_failure(
    failed_debit, session, client
) -> None:
    _customer, invoice, debit = failed_debit("MD06")
    html = client.get(f"/direct-debit/failed/{debit.id}").get_data(as_text=True)
    assert "Tell us what is wrong" in text_of(html)
    assert f'href="/dispute?invoice={invoice.number}"' in html
    form = client.get(f"/dispute?invoice={invoice.number}").get_data(as_text=True)
    assert re.search(rf'value="{re.escape(invoice.number)}" id="invoice-\d+"\s+checked', form), "not chosen"
    response = client.post(
        "/dispute",
        data={
            "csrf_token": token_on(form),
            "invoice": invoice.number,
            "reason": "amount_wrong",
            "explanation": "The meter reading is wrong <b>twice</b>",
        },
    )
    assert response.status_code == 303, text_of(response.get_data(as_text=True))
    session.expire_all()
    stored = session.get(Debit, debit.id)
    assert stored.choice == "dispute" and stored.choice_details["dispute"].startswith("D-")
    assert _choices(session, stored)[0].payload["dispute"] == stored.choice_details["dispute"]
    page = text_of(client.get(f"/direct-debit/failed/{debit.id}").get_data(as_text=True))
    assert f"You asked us about it in question {stored.choice_details['dispute']}" in page
    assert "A direct debit did not go through" not in text_of(client.get("/overview").get_data(as_text=True))


def test_a_closed_account_leads_to_a_new_mandate_through_a_payment(failed_debit, client) -> None:
    _customer, invoice, debit = failed_debit("AC04")
    html = client.get(f"/direct-debit/failed/{debit.id}").get_data(as_text=True)
    page = text_of(html)
    assert "the account has been closed" in page and "Set up direct debit again" in page
    assert f"/pay?invoice={invoice.number}&amp;method=directdebit" in html
    assert "Or try again" not in page


def test_another_customers_debit_is_not_found(failed_debit, create_customer, login, client) -> None:
    _customer, _invoice, debit = failed_debit("AM04")
    login(client, create_customer(language="en"))
    assert client.get(f"/direct-debit/failed/{debit.id}").status_code == 404


def test_an_invoice_paid_meanwhile_needs_no_choice(failed_debit, session, client) -> None:
    _customer, invoice, debit = failed_debit("AM04")
    html = client.get(f"/direct-debit/failed/{debit.id}").get_data(as_text=True)  # the page is left open
    invoice = session.get(Invoice, invoice.id)  # paid another way meanwhile
    invoice.state = "paid"
    invoice.paid_cents = invoice.total_cents
    session.commit()
    response = client.post(
        f"/direct-debit/failed/{debit.id}/retry", data={"csrf_token": token_on(html), "on": "2027-01-11"}
    )
    assert response.status_code == 400
    assert "This invoice is paid now, so there is nothing more to collect." in text_of(response.get_data(as_text=True))
    session.expire_all()
    assert session.get(Debit, debit.id).state == "failed", "no new attempt for a paid invoice"
    assert "Or try again" not in text_of(client.get(f"/direct-debit/failed/{debit.id}").get_data(as_text=True))


def test_a_withdrawn_dispute_lets_the_failed_debit_ask_again(failed_debit, session, client) -> None:
    _customer, invoice, debit = failed_debit("MD06")
    form = client.get(f"/dispute?invoice={invoice.number}").get_data(as_text=True)
    data = {"csrf_token": token_on(form), "invoice": invoice.number, "reason": "other", "explanation": "x"}
    location = client.post("/dispute", data=data).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert client.post(f"{location}/withdraw", data={"csrf_token": token_on(page)}).status_code == 303
    session.expire_all()
    assert session.get(Debit, debit.id).choice is None
    assert "Tell us what is wrong" in text_of(client.get(f"/direct-debit/failed/{debit.id}").get_data(as_text=True))
