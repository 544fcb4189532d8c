"""A plan's page (invoices, the schedule with each instalment's state, the decision, the consent as
evidence), the lists of plans and promises with their filters, requests to be called back ("Mark as called",
once), and the "Payment plans" section of the customer's page."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta

import time_machine
from sqlalchemy import select

from portal.events.models import DomainEvent
from portal.invoices.models import Invoice
from portal.plans.models import CallbackRequest, PaymentPromise, PromiseInvoice
from tests.fixtures.factories import csrf_token
from tests.plans.staff_support import (
    CONSENT_TEXT,
    DEBTOR_BROWSER,
    DEBTOR_IP,
    NOW,
    main_of,
    reread,
    text_of,
)


def _page(client, path: str, role: str, staff_login, language: str = "en") -> str:
    with time_machine.travel(NOW, tick=False):
        staff_login(client, role, language=language)
        answer = client.get(path)
    assert answer.status_code == 200, answer.status_code
    return text_of(main_of(answer.get_data(as_text=True)))


def test_a_running_plan_shows_each_instalment_and_the_consent(session, propose, client, staff_login):
    plan = propose(instalments=3, first=date(2026, 11, 30) + timedelta(days=3))  # inside: agreed at once
    plan_id, reference, name = plan.id, plan.reference, plan.customer.name
    running = reread(session, plan)
    assert running.status == "active"
    # The customer paid the first instalment (201.66) and a bit: one paid, the second part-paid and upcoming.
    invoice = session.get(Invoice, running.invoices[0].invoice_id)
    invoice.paid_cents = 25000
    session.commit()

    number = invoice.number
    page = _page(client, f"/staff/plans/{plan_id}", "supervisor", staff_login)
    assert f"Plan {reference} of {name}" in page and "Running" in page
    assert "Paid towards the plan: €250.00 of €605.00; €355.00 left." in page
    assert "€201.66 Paid" in page and "€48.34 Upcoming" in page
    assert number in page and "The policy (approved at once)" in page
    assert CONSENT_TEXT in page and hashlib.sha256(CONSENT_TEXT.encode()).hexdigest() in page
    assert DEBTOR_IP in page and DEBTOR_BROWSER in page, "a supervisor sees where from, as in the audit trail"
    assert "English" in page and "plans.consumer_max_instalments" in page


def test_a_viewer_sees_the_consent_text_but_not_where_from(session, propose, client, staff_login):
    plan = propose(instalments=12)
    page = _page(client, f"/staff/plans/{plan.id}", "viewer", staff_login)
    assert CONSENT_TEXT in page and "Waiting for us" in page
    assert DEBTOR_IP not in page and DEBTOR_BROWSER not in page
    assert "shown to supervisors and administrators" in page
    assert "Decide on this proposal" in page


def test_the_list_of_plans_filters_by_state_and_customer_type(session, propose, client, staff_login):
    running = propose(instalments=3, name="Rita Running")
    business = propose(instalments=2, name="Bram Business BV", kind="business", first=date(2026, 12, 20))
    waiting = propose(instalments=12, name="Wim Waiting")
    ended = propose(instalments=12, name="Eva Ended")
    rejected = reread(session, ended)
    rejected.status = "rejected"
    session.commit()
    assert reread(session, business).status == "active"
    running_reference, waiting_reference = running.reference, waiting.reference

    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="en")
        active = text_of(main_of(client.get("/staff/plans/all").get_data(as_text=True)))
        consumers = text_of(main_of(client.get("/staff/plans/all?status=active&kind=consumer").get_data(as_text=True)))
        finished = text_of(main_of(client.get("/staff/plans/all?status=ended").get_data(as_text=True)))
        odd = client.get("/staff/plans/all?status=<b>&kind=x&page=-1").get_data(as_text=True)
    assert "Rita Running" in active and "Bram Business BV" in active and "Wim Waiting" not in active
    assert "Rita Running" in consumers and "Bram Business BV" not in consumers
    assert "Eva Ended" in finished and "Rejected by us" in finished and "Rita Running" not in finished
    assert "Rita Running" in odd and "<b>" not in main_of(odd), "an unknown filter shows the running plans"
    assert running_reference in active and waiting_reference not in active


def _promise(session, customer_id, invoice, status, promised_on):
    promise = PaymentPromise(
        customer_id=customer_id,
        status=status,
        promised_on=promised_on,
        holds_until=datetime.combine(promised_on, time(23), tzinfo=UTC),
        amount_cents=invoice.outstanding_cents,
    )
    promise.invoices = [PromiseInvoice(invoice_id=invoice.id, outstanding_cents=invoice.outstanding_cents)]
    if status != "open":
        promise.ended_at = NOW
    session.add(promise)
    session.commit()
    return promise


def test_the_promises_open_first_by_date_then_kept_and_broken(
    session, client, staff_login, create_customer, create_invoice
):
    later = create_customer(name="Lotte Later", language="en")
    sooner = create_customer(name="Sam Sooner", language="en")
    broke = create_customer(name="Bert Broken", language="en")
    _promise(session, later.id, create_invoice(later), "open", date(2026, 12, 11))
    _promise(session, sooner.id, create_invoice(sooner), "open", date(2026, 12, 4))
    _promise(session, broke.id, create_invoice(broke), "broken", date(2026, 11, 27))

    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="en")
        open_ones = text_of(main_of(client.get("/staff/plans/promises").get_data(as_text=True)))
        broken = text_of(main_of(client.get("/staff/plans/promises?status=broken").get_data(as_text=True)))
        kept = text_of(main_of(client.get("/staff/plans/promises?status=kept").get_data(as_text=True)))
    assert open_ones.index("Sam Sooner") < open_ones.index("Lotte Later"), "the soonest date first"
    assert "Bert Broken" not in open_ones and "4 Dec 2026" in open_ones and "€30.25" in open_ones
    assert "Bert Broken" in broken and "Broken" in broken
    assert "No promises of this kind." in kept


def test_mark_as_called_once(session, client, staff_login, create_customer, app):
    waited = create_customer(name="Willem Waited", language="en")
    newer = create_customer(name="Nina Newer", language="en")
    first = CallbackRequest(
        customer_id=waited.id, phone="06 11111111", preferred_time="morning", created_at=NOW - timedelta(days=1)
    )
    second = CallbackRequest(customer_id=newer.id, phone="06 22222222", note="After 3 pm please", created_at=NOW)
    session.add_all([first, second])
    session.commit()

    with time_machine.travel(NOW, tick=False):
        agent = staff_login(client, "agent", language="en")
        html = client.get("/staff/plans/callbacks").get_data(as_text=True)
        page = text_of(main_of(html))
        assert page.index("Willem Waited") < page.index("Nina Newer"), "who waited longest first"
        assert "In the morning" in page and "After 3 pm please" in page and 'href="tel:0611111111"' in html
        token = csrf_token(client, "/staff/plans/callbacks")
        done = client.post(f"/staff/plans/callbacks/{first.id}/called", data={"csrf_token": token})
        told = text_of(client.get(done.headers["Location"]).get_data(as_text=True))
        again = client.post(f"/staff/plans/callbacks/{first.id}/called", data={"csrf_token": token})
        told_again = text_of(client.get(again.headers["Location"]).get_data(as_text=True))
        handled = text_of(main_of(client.get("/staff/plans/callbacks?show=handled").get_data(as_text=True)))
    assert "Willem Waited is marked as called." in told
    assert f"{agent.email} already marked this request as called." in told_again
    session.expire_all()
    marked = session.get(CallbackRequest, first.id)
    assert marked.handled_by == agent.email and marked.handled_at is not None
    events = session.scalars(select(DomainEvent).where(DomainEvent.kind == "callback.handled")).all()
    assert [(event.customer_id, event.actor_id) for event in events] == [(waited.id, agent.email)]
    assert "Willem Waited" in handled and "Nina Newer" not in handled


def test_a_viewer_cannot_mark_as_called(session, client, staff_login, create_customer):
    customer = create_customer(language="en")
    request = CallbackRequest(customer_id=customer.id, phone="06 11111111")
    session.add(request)
    session.commit()
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="en")
        assert "Mark as called" not in client.get("/staff/plans/callbacks").get_data(as_text=True)
        token = csrf_token(client, "/staff/account")
        assert client.post(f"/staff/plans/callbacks/{request.id}/called", data={"csrf_token": token}).status_code == 403
    session.expire_all()
    assert session.get(CallbackRequest, request.id).handled_at is None


def test_the_customer_page_lists_their_plans_and_promises(session, propose, client, staff_login, create_invoice):
    plan = propose(instalments=12)
    plan_id = plan.id
    customer = reread(session, plan).customer
    customer_id = customer.id
    _promise(session, customer.id, create_invoice(customer), "kept", date(2026, 11, 20))
    page_html = None
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="en")
        page_html = client.get(f"/staff/customers/{customer_id}").get_data(as_text=True)
    section = page_html.split('id="payment-plans"', 1)[1].split("</section>", 1)[0]
    assert f'href="/staff/plans/{plan_id}"' in section and f'href="/staff/plans/{plan_id}/decide"' in section
    assert "Waiting for us" in section and "12 instalments, every month" in text_of(section)
    assert "20 Nov 2026" in section and "Kept" in section
    assert 'href="#payment-plans"' in page_html


def test_a_customer_without_plans(session, client, staff_login, create_customer):
    customer = create_customer(language="en")
    page = _page(client, f"/staff/customers/{customer.id}", "viewer", staff_login)
    assert "This customer has no payment plans." in page and "This customer has made no promises to pay." in page


def test_the_customer_page_says_why_no_reminder_goes_out_for_an_invoice(session, propose, client, staff_login):
    # An invoice in a running plan is past its due date, and the page says that, but also why it is not reminded.
    plan = propose(instalments=3, first=date(2026, 11, 30) + timedelta(days=3))
    running = reread(session, plan)
    assert running.status == "active"
    customer_id, number = running.customer.id, running.invoices[0].invoice.number
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="nl")
        html = client.get(f"/staff/customers/{customer_id}").get_data(as_text=True)
    row = next(part for part in html.split("<tr>") if f">{number}</a>" in part)
    assert "Herinneringen gepauzeerd: in een betalingsregeling" in text_of(row), text_of(row)
