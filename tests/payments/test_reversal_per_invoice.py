"""A refund or chargeback of a payment for several invoices: each invoice's page says what it did to that invoice
(the part that is open again, or paid again), not the whole amount as if all of it were this invoice's."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import select

from portal import clock
from portal.audit.services import Actor
from portal.events import emit
from portal.payments import allocation
from portal.payments import events as payment_events
from portal.payments.models import Payment, PaymentReversal
from tests.payments.conftest import refund_form, start_payment

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ACTOR = Actor(type="system", id="tests")
BIG = [("Stroom", "1000", "kWh", "0.25000", "21")]  # €302.50; the default invoice is €30.25


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\u00a0", " ")


def _today(locale: str) -> str:
    return format_date(clock.now().astimezone(ZoneInfo("Europe/Amsterdam")).date(), "long", locale=locale)


def _two_invoices_paid_at_once(app, session, mollie_standin, create_customer, create_invoice, login, language="en"):
    """L-1 (€30.25, the older) and L-2 (€302.50) paid in one Mollie payment of €332.75."""
    client = app.test_client()
    customer = create_customer(language=language, email="lou@example.com")
    due = clock.today(ZoneInfo("Europe/Amsterdam")) - timedelta(days=20)
    create_invoice(customer, number="L-1", issue_date=due - timedelta(days=30), due_date=due - timedelta(days=16))
    create_invoice(customer, number="L-2", lines=BIG, issue_date=due - timedelta(days=14), due_date=due)
    login(client, customer)
    assert start_payment(client, ["L-1", "L-2"]).status_code == 303
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    mollie_standin.set_status(payment.external_id, "paid")
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)
    return client, customer, payment


def _history(client: Any, number: str) -> str:
    page = _text(client.get(f"/invoices/{number}").get_data(as_text=True))
    assert "What happened to this invoice" in page or "Wat er met deze factuur is gebeurd" in page
    return page


def test_a_refund_of_two_invoices_says_on_each_what_of_it_is_open_again(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, staff_login
):
    client, customer, payment = _two_invoices_paid_at_once(
        mollie_app, session, mollie_standin, create_customer, create_invoice, login
    )
    staff = mollie_app.test_client()
    staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"
    refund = f"{page}/payments/{payment.id}/refund"
    # €40.00 back: €302.50 of L-2 would be more, so all of it comes off L-2 (paid last) ...
    assert staff.post(refund, data=refund_form(staff, page, "40,00")).status_code == 302
    # ... and then the rest of the payment: €262.50 of L-2 and all of L-1.
    assert staff.post(refund, data=refund_form(staff, page, "292,75")).status_code == 302
    today = _today("en_GB")

    older = _history(client, "L-1")
    assert (
        f"Refunded on {today}: €30.25 of this invoice is open again, because we paid it back to you "
        "(part of a refund of €292.75)."
    ) in older
    assert "we paid €292.75 back to you" not in older and "€40.00" not in older, "L-1 lost nothing to the first"

    newer = _history(client, "L-2")
    assert f"Refunded on {today}: we paid €40.00 back to you, so this amount is open again." in newer
    assert (
        f"Refunded on {today}: €262.50 of this invoice is open again, because we paid it back to you "
        "(part of a refund of €292.75)."
    ) in newer


def test_a_chargeback_of_two_invoices_and_its_reversal_say_each_invoice_s_part_in_dutch(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, _customer, payment = _two_invoices_paid_at_once(
        mollie_app, session, mollie_standin, create_customer, create_invoice, login, language="nl"
    )
    body = mollie_standin.webhook_body(payment.external_id)
    chargeback = mollie_standin.add_chargeback(payment.external_id, 33275)
    client.post("/webhooks/mollie", data=body, headers=FORM)
    today = _today("nl_NL")

    older = _history(client, "L-1")
    assert (
        f"Je bank heeft deze betaling op {today} teruggeboekt: € 30,25 van deze factuur is teruggegaan naar je "
        "rekening (als deel van € 332,75). Dat bedrag staat daarom weer open."
    ) in older
    assert "€ 332,75 is teruggegaan" not in older

    mollie_standin.reverse_chargeback(chargeback)
    client.post("/webhooks/mollie", data=body, headers=FORM)
    older = _history(client, "L-1")
    assert (
        f"Op {today} heeft je bank de terugboeking van € 332,75 ingetrokken. Daarom geldt € 30,25 van deze "
        "factuur weer als betaald."
    ) in older
    newer = _history(client, "L-2")
    assert "€ 302,50 van deze factuur is teruggegaan naar je rekening (als deel van € 332,75)" in newer
    assert "Daarom geldt € 302,50 van deze factuur weer als betaald." in newer


def test_an_undoing_recorded_before_events_named_their_reversal_still_says_each_invoice_s_part(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, _customer, payment = _two_invoices_paid_at_once(
        mollie_app, session, mollie_standin, create_customer, create_invoice, login
    )
    mollie_standin.add_chargeback(payment.external_id, 33275)
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)
    # As undo_reversal did before its event named the reversal (such events stay in the log as they were).
    session.expire_all()
    row = session.scalars(select(PaymentReversal).where(PaymentReversal.payment_id == payment.id)).one()
    now = clock.now()
    row.undone_at = now
    row.payment.reversed_cents -= row.amount_cents
    restored = allocation.restore(session, row.payment, row, now, actor=ACTOR)
    emit(
        session,
        payment_events.about(
            payment_events.CHARGEBACK_REVERSED, row.payment, ACTOR, amount_cents=row.amount_cents, invoices=restored
        ),
    )
    session.commit()

    older = _history(client, "L-1")
    assert (
        f"On {_today('en_GB')} the reversal of €332.75 by your bank was withdrawn, so €30.25 of this invoice counts "
        "as paid again."
    ) in older
