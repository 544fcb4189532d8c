"""A double click on the refund confirmation: the second request arrives while the first still waits for the
provider. Both answers say what the one refund did (the browser shows only the second), the provider refunds once
and the debtor is e-mailed once.

The two requests commit for real on connections of their own, in a database of the test's own (as
tests/customers/test_revoke_once.py), so each sees what the other committed.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.payments.models import Payment, PaymentReversal
from tests.fixtures.databases import app_on, database_of_its_own
from tests.fixtures.provider_apps import close_providers
from tests.payments.conftest import refund_form, start_payment

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
STAFF_COOKIE = "portal_staff"  # the staff area's own session cookie, on /staff


@pytest.fixture()
def own_app(database_url: str, tmp_path: Path, app: Flask, mollie_standin: Any) -> Iterator[Flask]:
    with database_of_its_own(database_url, tmp_path, "refund_double_click") as url:
        with app_on(
            url,
            app,
            MOLLIE_API_KEY=mollie_standin.api_key,
            MOLLIE_API_ENDPOINT=mollie_standin.api_endpoint,
            PROVIDER_TIMEOUT_SECONDS=5,
        ) as built:
            yield built
            close_providers(built)


@pytest.fixture()
def session(own_app: Flask) -> Iterator[Any]:
    """The factories write straight into the test's own database, committed for real."""
    db.scoped.remove()
    yield db.session
    db.scoped.remove()


def _text(page: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _refund_posts(mollie_standin: Any) -> int:
    return len([r for r in mollie_standin.requests if r[0] == "POST" and r[1].endswith("/refunds")])


def test_a_double_clicked_refund_refunds_once_and_both_answers_say_what_it_did(
    own_app, session, mollie_standin, create_customer, create_invoice, login, staff_login
):
    client = own_app.test_client()
    customer = create_customer(language="en", email="jet@example.com")
    create_invoice(customer, number="D-1")
    login(client, customer)
    assert start_payment(client, ["D-1"]).status_code == 303
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    mollie_standin.set_status(payment.external_id, "paid")
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)
    payment_id, customer_id, name = payment.id, customer.id, customer.name
    db.scoped.remove()

    first = own_app.test_client()
    staff_login(first, "supervisor", language="en")
    page = f"/staff/customers/{customer_id}"
    url = f"{page}/payments/{payment_id}/refund"
    form = refund_form(first, page, "5,00")
    second = own_app.test_client()  # the same browser: the same log-in, the same form
    cookie = first.get_cookie(STAFF_COOKIE, path="/staff")
    second.set_cookie(cookie.key, cookie.value, path="/staff")

    shown: dict[str, str] = {}
    errors: list[BaseException] = []

    def click(which: str, staff: Any) -> None:
        try:
            assert staff.post(url, data=form).status_code == 302
            shown[which] = _text(staff.get(page).get_data(as_text=True))
        except BaseException as error:  # asserted on below
            errors.append(error)

    mollie_standin.delay_next_of("POST", 1.5)  # the provider takes its time over the first click's refund
    clicked = threading.Thread(target=click, args=("first", first))
    clicked.start()
    deadline = time.monotonic() + 10
    while _refund_posts(mollie_standin) < 1:  # the first click is waiting for the provider's answer
        assert time.monotonic() < deadline, "the first click never asked the provider"
        time.sleep(0.01)
    click("second", second)
    clicked.join(20)

    assert errors == []
    refunded = f"Refunded €5.00 to {name}. €5.00 is owed again on invoice D-1."
    for which in ("first", "second"):
        assert refunded in shown[which], f"the {which} answer says what the refund did"
        assert "already been made" not in shown[which] and "earlier refund" not in shown[which]
    reversals = session.scalars(select(PaymentReversal).where(PaymentReversal.payment_id == payment_id)).all()
    assert [r.amount_cents for r in reversals] == [500]
    assert _refund_posts(mollie_standin) == 2, "the second click asked while the first still waited"
    posted = {r[3].get("Idempotency-Key") for r in mollie_standin.requests if r[1].endswith("/refunds")}
    assert len(posted) == 1, "both clicks sent the same request, so the provider refunded once"
    told = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.customer_id == customer_id, OutboxMessage.template == "payment_refunded"
        )
    ).all()
    assert len(told) == 1, "the debtor is told once"
