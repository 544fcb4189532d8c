"""Paying a plan's instalment in the portal, through the demo provider, as the pay page does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from portal.payments.models import Payment
from portal.plans.models import PaymentPlan
from portal.plans.progress import progress_of
from tests.payments.conftest import local_path
from tests.plans.overview_support import page_text, propose, token_on

DEC_20 = datetime(2026, 12, 20, 9, tzinfo=UTC)
BIG = [("Stroom", "1000", "kWh", "0.25000", "21")]  # €302.50


@pytest.fixture()
def at_dec_20() -> Iterator[None]:
    with time_machine.travel(DEC_20, tick=False):
        yield


def _plan(app, session, create_customer, create_invoice, *, first: date, instalments: int = 3) -> PaymentPlan:
    customer = create_customer(language="en")
    create_invoice(customer, number=f"I-{first:%m%d}-{instalments}", lines=BIG, due_date=date(2026, 11, 15))
    plan_id = propose(
        app, session, customer, [f"I-{first:%m%d}-{instalments}"], instalments=instalments, first=first
    ).id
    return session.get(PaymentPlan, plan_id)


def _pay(client, plan_id: int, method: str = "ideal"):
    page = f"/plan/{plan_id}/pay"
    return client.post(page, data={"csrf_token": token_on(client.get(page).get_data(as_text=True)), "method": method})


def test_paying_the_instalment_due_now_marks_it_paid(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    plan = _plan(app, session, create_customer, create_invoice, first=date(2026, 12, 20))
    login(client, plan.customer)
    text = page_text(client.get(f"/plan/{plan.id}/pay"))
    assert f"To pay €100.83 Payment plan {plan.reference} · 1 instalment due now" in text
    assert "Where the money goes Invoice I-1220-3: €302.50 still open" in text
    assert "iDEAL" in text and "Pay €100.83" in text

    started = _pay(client, plan.id)
    assert started.status_code == 303 and "/demo-checkout/" in started.headers["Location"]
    payment = session.scalars(select(Payment).where(Payment.customer_id == plan.customer_id)).one()
    assert payment.amount_cents == 10083
    checkout = local_path(started.headers["Location"])
    back = client.post(f"{checkout}/paid", data={"csrf_token": token_on(client.get(checkout).get_data(as_text=True))})
    thanks = page_text(client.get(local_path(back.headers["Location"])))
    assert "Thank you" in thanks
    assert (
        "Your payment plan Paid so far €100.83 of €302.50. Still to pay: €201.67. "
        "The next instalment is €100.83 on 20 January 2027."
    ) in thanks
    assert "is still open on your invoices" not in thanks, "an instalment is not a part-payment to chase"

    session.expire_all()
    progress = progress_of(session.get(PaymentPlan, plan.id), date(2026, 12, 20))
    assert [status.state for status in progress.instalments] == ["paid", "upcoming", "upcoming"]
    assert progress.left_cents == 30250 - 10083
    overview = page_text(client.get("/overview"))
    assert "Due now" not in overview and "Next instalment €100.83 on 20 January 2027" in overview


def test_with_nothing_due_yet_the_next_instalment_can_be_paid_early(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    plan = _plan(app, session, create_customer, create_invoice, first=date(2027, 1, 5))
    login(client, plan.customer)
    text = page_text(client.get(f"/plan/{plan.id}/pay"))
    assert "To pay €100.83" in text and "Instalment 1, due on 5 January 2027" in text


def test_a_method_not_offered_starts_nothing(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    plan = _plan(app, session, create_customer, create_invoice, first=date(2026, 12, 20))
    login(client, plan.customer)
    refused = _pay(client, plan.id, method="telepathy")
    assert refused.status_code == 400
    assert "This way of paying is not available for this amount." in page_text(refused)
    assert session.scalars(select(Payment).where(Payment.customer_id == plan.customer_id)).all() == []


def test_a_plan_not_yet_agreed_has_nothing_to_pay(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    plan = _plan(app, session, create_customer, create_invoice, first=date(2027, 1, 5), instalments=12)
    assert plan.status == "proposed"
    login(client, plan.customer)
    page = client.get(f"/plan/{plan.id}/pay")
    assert "This payment plan is not running, so there is no instalment to pay." in page_text(page)
    assert "Pay €" not in page_text(page)


def test_another_customers_plan_is_not_found(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    plan = _plan(app, session, create_customer, create_invoice, first=date(2026, 12, 20))
    login(client, create_customer(language="en"))
    assert client.get(f"/plan/{plan.id}/pay").status_code == 404
    assert client.post(f"/plan/{plan.id}/pay", data={"method": "ideal"}).status_code in (400, 404)
    assert client.get("/plan/999999/pay").status_code == 404
