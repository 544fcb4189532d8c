"""A refunded or charged-back invoice is open again: the debtor is told why on the invoice and the overview, and a
staff refund pauses dunning (it is not the debtor's fault), while a chargeback does not."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import select

from portal import clock
from portal.accounts.pausing import pause_reason
from portal.accounts.view import dunnable_invoices
from portal.invoices.models import Invoice
from portal.notifications.models import OutboxMessage
from portal.payments.models import Payment
from tests.payments.conftest import refund_form, start_payment

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _today_in_words() -> str:
    return format_date(clock.now().astimezone(ZoneInfo("Europe/Amsterdam")).date(), "long", locale="en_GB")


def _late_invoice_paid(app, session, create_customer, create_invoice, login, pay):
    client = app.test_client()
    customer = create_customer(language="en", email="lou@example.com")
    # Due long ago: reopened, it would read "Overdue by 300-odd days" without a word of why.
    due = clock.today(ZoneInfo("Europe/Amsterdam")) - timedelta(days=324)
    invoice = create_invoice(customer, number="L-1", issue_date=due - timedelta(days=14), due_date=due)
    login(client, customer)
    assert start_payment(client, ["L-1"]).status_code == 303
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    pay(client, payment)
    return client, customer, invoice, payment


def test_a_staff_refund_is_explained_and_pauses_dunning(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login, staff_login
):
    def pay(client, payment):
        body, headers = stripe_standin.event("checkout.session.completed", stripe_standin.complete(payment.external_id))
        client.post("/webhooks/stripe", data=body, headers=headers)

    client, customer, invoice, payment = _late_invoice_paid(
        stripe_app, session, create_customer, create_invoice, login, pay
    )
    staff = stripe_app.test_client()
    staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"
    amount = f"{invoice.total_cents // 100},{invoice.total_cents % 100:02d}"
    assert staff.post(f"{page}/payments/{payment.id}/refund", data=refund_form(staff, page, amount)).status_code == 302
    assert f"{payment.reference} Refunded" in _text(staff.get(page).get_data(as_text=True))
    session.expire_all()
    reopened = session.get(Invoice, invoice.id)
    assert reopened.state == "open"

    now = clock.now()
    assert pause_reason(session, reopened, now) == "refunded"
    remindable = {row.id for row in session.execute(dunnable_invoices(now, clock.today(ZoneInfo("Europe/Amsterdam"))))}
    assert reopened.id not in remindable

    overview = _text(client.get("/overview").get_data(as_text=True))
    assert f"Refunded on {_today_in_words()}" in overview
    assert "Overdue by" not in overview and "past its due date" not in overview
    detail = _text(client.get("/invoices/L-1").get_data(as_text=True))
    assert "What happened to this invoice" in detail
    # Beside the invoice's total, the badge says what it is now, not "Refunded" as if all of it was paid back.
    assert f"{_euros(invoice.total_cents)} Open again Refunded on {_today_in_words()}" in detail
    assert f"Refunded on {_today_in_words()}: we paid" in detail and "back to you" in detail
    assert "Overdue by" not in detail


def test_a_chargeback_is_explained_but_does_not_pause_dunning(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    def pay(client, payment):
        mollie_standin.set_status(payment.external_id, "paid")
        client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)

    client, customer, invoice, payment = _late_invoice_paid(
        mollie_app, session, create_customer, create_invoice, login, pay
    )
    mollie_standin.add_chargeback(payment.external_id, invoice.total_cents)
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)
    session.expire_all()
    reopened = session.get(Invoice, invoice.id)
    assert reopened.state == "open"
    assert pause_reason(session, reopened, clock.now()) is None

    overview = _text(client.get("/overview").get_data(as_text=True))
    assert f"Your bank reversed this payment on {_today_in_words()}" in overview
    assert "Overdue by" in overview  # the debtor's own doing: it is owed, and late
    detail = _text(client.get("/invoices/L-1").get_data(as_text=True))
    assert f"Your bank reversed this payment on {_today_in_words()}" in detail
    assert "so this amount is open again" in detail


def test_the_refund_confirmation_says_a_refund_out_of_credit_reopens_no_invoice(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, staff_login
):
    def pay(client, payment):
        mollie_standin.set_status(payment.external_id, "paid")
        client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)

    _client, customer, invoice, payment = _late_invoice_paid(
        mollie_app, session, create_customer, create_invoice, login, pay
    )
    # The invoice was lowered by 10,00 while the debtor paid: that much of the payment is credit.
    payment = session.get(Payment, payment.id)
    [allocation] = payment.allocations
    allocation.amount_cents -= 1000
    payment.unallocated_cents = 1000
    session.commit()
    staff = mollie_app.test_client()
    staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"

    def confirmation(amount: str) -> str:
        form = {**refund_form(staff, page, amount), "confirmed": ""}
        answer = staff.post(f"{page}/payments/{payment.id}/refund", data=form)
        assert answer.status_code == 200
        return _text(answer.get_data(as_text=True))

    out_of_credit = confirmation("10,00")
    assert "comes out of the customer's credit" in out_of_credit and "no invoice is opened again" in out_of_credit
    assert "open again" not in out_of_credit.replace("opened again", "")
    whole = confirmation(f"{invoice.total_cents // 100},{invoice.total_cents % 100:02d}")
    assert "€10.00 of it comes out of the customer's credit" in whole
    assert f"{_euros(invoice.total_cents - 1000)} is owed again on invoice L-1." in whole


def _euros(cents: int) -> str:
    return f"€{cents // 100:,}.{cents % 100:02d}"


def test_a_part_refund_says_which_invoice_is_owed_again_before_and_after(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, staff_login
):
    client = mollie_app.test_client()
    customer = create_customer(language="en", email="kit@example.com")
    today = clock.today(ZoneInfo("Europe/Amsterdam"))
    older = create_invoice(customer, number="P-1", issue_date=today - timedelta(days=40), due_date=today)
    newer = create_invoice(customer, number="P-2", issue_date=today - timedelta(days=10), due_date=today)
    login(client, customer)
    assert start_payment(client, ["P-1", "P-2"]).status_code == 303
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    mollie_standin.set_status(payment.external_id, "paid")
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)

    staff = mollie_app.test_client()
    staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"
    whole = payment.amount_cents
    assert f'value="{whole // 100}.{whole % 100:02d}"' in staff.get(page).get_data(as_text=True), "English figures"

    form = {**refund_form(staff, page, "10.00"), "confirmed": ""}
    confirmation = _text(staff.post(f"{page}/payments/{payment.id}/refund", data=form).get_data(as_text=True))
    assert "€10.00 is owed again on invoice P-2." in confirmation
    assert "P-1." not in confirmation and "credit" not in confirmation

    done = staff.post(f"{page}/payments/{payment.id}/refund", data={**form, "confirmed": "yes"}, follow_redirects=True)
    result = _text(done.get_data(as_text=True))
    assert f"Refunded €10.00 to {customer.name}. €10.00 is owed again on invoice P-2." in result
    assert f"{payment.reference} Partly refunded" in result, "the payment's badge says it, not 'Received'"
    # Who refunded it is in the audit trail, under a name of its own in the filter.
    trail = staff.get("/staff/audit/?action=payment.refunded").get_data(as_text=True)
    assert re.search(r"<option[^>]*payment\.refunded[^>]*>Payment refunded</option>", trail), "named in the filter"
    rows = _text(trail.split("<tbody>", 1)[1].split("</tbody>", 1)[0])
    assert "Member of staff staff" in rows and "Payment refunded" in rows and customer.external_ref in rows, rows
    session.expire_all()
    assert session.get(Invoice, older.id).state == "paid"
    assert session.get(Invoice, newer.id).outstanding_cents == 1000
    # Refunding the rest: it is what is left, not the whole amount received.
    rest = {**refund_form(staff, page, "1,00"), "confirmed": ""}
    again = _text(staff.post(f"{page}/payments/{payment.id}/refund", data=rest).get_data(as_text=True))
    assert f"Part of the {_euros(payment.amount_cents)} received" in again
    left = payment.amount_cents - 1000
    rest = {**refund_form(staff, page, f"{left // 100},{left % 100:02d}"), "confirmed": ""}
    again = _text(staff.post(f"{page}/payments/{payment.id}/refund", data=rest).get_data(as_text=True))
    assert f"All that is left to refund of the {_euros(payment.amount_cents)} received" in again

    # The debtor is told by e-mail, with the invoice that is owed again and a link to see it and pay.
    [told] = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.customer_id == customer.id, OutboxMessage.template == "payment_refunded"
        )
    ).all()
    assert told.recipient == "kit@example.com" and told.subject == "We have paid €10.00 back to you"
    body = _text(told.body_text)
    assert f"We have paid €10.00 back to the account you paid from (payment {payment.reference})." in body
    assert "- Invoice P-2: €10.00" in body and "P-1" not in body
    assert "/p/" in told.body_html and "We send you no reminders about this." in body
