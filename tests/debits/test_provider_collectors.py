"""Due debits collected through Mollie and Stripe: the real SDKs against the local stand-ins, the real collectors
(found from the app's configuration), and the outcome brought back by the provider's webhook and a fresh fetch."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from portal.debits.collection import collect_due
from portal.debits.collector_registry import collector_for
from portal.debits.jobs import prenotify_all
from portal.debits.models import Debit, ProviderCustomer
from portal.debits.provider_collectors import MollieCollector, StripeCollector, provider_collector
from portal.invoices.models import Invoice
from portal.notifications.models import OutboxMessage
from portal.payments.jobs import reconcile_payments
from portal.payments.models import Payment

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NOTICE_DAY = datetime(2026, 12, 15, 9, tzinfo=UTC)
DEBIT_DAY = datetime(2027, 1, 4, 9, tzinfo=UTC)  # a Monday: the schedule's day 4 falls on it


def _notified_debit(session, create_customer, create_invoice, create_direct_debit, *, collector, customer, mandate):
    """A customer on direct debit through ``collector`` on the 4th, the January invoice, its debit pre-notified."""
    person = create_customer(language="en")
    schedule = create_direct_debit(person, day=4, first_period="2027-01", collector=collector)
    schedule.mandate.provider_mandate_id = mandate
    session.add(ProviderCustomer(customer_id=person.id, provider=collector, external_id=customer))
    invoice = create_invoice(
        person,
        issue_date=date(2026, 12, 10),
        due_date=date(2027, 1, 31),
        period_start=date(2027, 1, 1),
        period_end=date(2027, 1, 31),
    )
    schedule.amount_cents = invoice.total_cents
    session.commit()
    with time_machine.travel(NOTICE_DAY, tick=False):
        assert prenotify_all(session, today=NOTICE_DAY.date()) == 1
    debit = session.scalars(select(Debit).where(Debit.schedule_id == schedule.id)).one()
    return person, invoice, debit


def _collect(session):
    with time_machine.travel(DEBIT_DAY, tick=False):
        return collect_due(session, today=DEBIT_DAY.date())


def _fresh(session, debit: Debit, invoice: Invoice) -> tuple[Debit, Invoice, Payment]:
    session.expire_all()
    debit = session.get(Debit, debit.id)
    assert debit.payment is not None
    return debit, session.get(Invoice, invoice.id), debit.payment


def _failure_messages(session, person) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.customer_id == person.id, OutboxMessage.template == "debit_failed"
            )
        )
    )


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """A request the client gave up on still takes effect at the provider, a moment later."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the provider never carried out the request"
        time.sleep(0.05)


# -- which collector ----------------------------------------------------------------------------------------


def test_a_mandate_held_by_a_configured_provider_has_its_collector(mollie_app, stripe_app) -> None:
    with mollie_app.app_context():
        assert isinstance(collector_for("mollie"), MollieCollector)
        assert collector_for("mollie").payment_provider == "mollie"
        with pytest.raises(KeyError):
            provider_collector("stripe")  # this deployment has no Stripe keys
    with stripe_app.app_context():
        assert isinstance(collector_for("stripe"), StripeCollector)
        with pytest.raises(KeyError):
            provider_collector("mollie")


# -- Mollie -----------------------------------------------------------------------------------------------


@pytest.fixture()
def mollie_debit(mollie_app, session, mollie_standin, create_customer, create_invoice, create_direct_debit):
    customer_id = mollie_standin.add_customer()
    mandate_id = mollie_standin.add_mandate(customer_id)
    with mollie_app.app_context():
        person, invoice, debit = _notified_debit(
            session,
            create_customer,
            create_invoice,
            create_direct_debit,
            collector="mollie",
            customer=customer_id,
            mandate=mandate_id,
        )
        yield person, invoice, debit, customer_id, mandate_id


def _mollie_posts(standin) -> list[tuple]:
    return [entry for entry in standin.requests if entry[0] == "POST" and entry[1] == "/v2/payments"]


def _mollie_webhook(mollie_app, mollie_standin, external_id: str) -> None:
    with time_machine.travel(DEBIT_DAY, tick=False):
        answer = mollie_app.test_client().post(
            "/webhooks/mollie", data=mollie_standin.webhook_body(external_id), headers=FORM
        )
    assert answer.status_code == 200


def test_mollie_collects_a_due_debit_as_a_recurring_payment_on_the_mandate(
    mollie_app, session, mollie_standin, mollie_debit
) -> None:
    person, invoice, debit, customer_id, mandate_id = mollie_debit

    report = _collect(session)

    assert report.collected == [debit.id]
    debit, invoice, payment = _fresh(session, debit, invoice)
    assert debit.state == "submitted" and payment.provider == "mollie" and payment.state == "pending"
    [(_, _, body, headers)] = _mollie_posts(mollie_standin)
    assert body["sequenceType"] == "recurring"
    assert (body["customerId"], body["mandateId"]) == (customer_id, mandate_id)
    assert body["amount"] == {
        "currency": "EUR",
        "value": f"{invoice.total_cents // 100}.{invoice.total_cents % 100:02d}",
    }
    assert body["metadata"]["payment_id"] == payment.id
    assert body["webhookUrl"] == "http://localhost/webhooks/mollie"
    assert headers["Idempotency-Key"] == f"debit-{debit.id}-1"
    assert payment.external_id == mollie_standin.payments_of(customer_id)[0]["id"]
    assert invoice.state == "open", "not paid before the bank says so"

    assert _collect(session).collected == [], "a second run hands nothing over again"
    assert len(_mollie_posts(mollie_standin)) == 1

    mollie_standin.set_status(payment.external_id, "paid")
    _mollie_webhook(mollie_app, mollie_standin, payment.external_id)
    debit, invoice, payment = _fresh(session, debit, invoice)
    assert payment.state == "paid" and debit.state == "collected"
    assert invoice.state == "paid"


def test_mollie_debit_the_bank_returns_with_am04_fails_with_that_reason(
    mollie_app, session, mollie_standin, mollie_debit
) -> None:
    person, invoice, debit, _customer_id, _mandate_id = mollie_debit
    _collect(session)
    debit, invoice, payment = _fresh(session, debit, invoice)

    mollie_standin.set_status(payment.external_id, "failed", bankReasonCode="AM04", bankReason="Insufficient funds")
    _mollie_webhook(mollie_app, mollie_standin, payment.external_id)

    debit, invoice, payment = _fresh(session, debit, invoice)
    assert (payment.state, payment.failure_reason) == ("failed", "AM04")
    assert (debit.state, debit.failure_code) == ("failed", "AM04")
    assert invoice.state == "open" and invoice.outstanding_cents == invoice.total_cents
    [message] = _failure_messages(session, person)
    assert "not enough money" in message.body_text


def test_mollie_refusing_the_debit_fails_it_without_a_payment(
    mollie_app, session, mollie_standin, mollie_debit
) -> None:
    person, invoice, debit, customer_id, mandate_id = mollie_debit
    mollie_standin.revoke_mandate(mandate_id)  # Mollie answers 422: no valid mandate

    report = _collect(session)

    assert report.failed == [debit.id]
    debit, invoice, payment = _fresh(session, debit, invoice)
    assert debit.state == "failed" and payment.state == "failed"
    assert mollie_standin.payments_of(customer_id) == []
    assert invoice.state == "open"
    assert len(_failure_messages(session, person)) == 1


def test_mollie_down_leaves_the_debit_submitted_and_the_next_run_collects_it_once(
    mollie_app, session, mollie_standin, mollie_debit
) -> None:
    person, invoice, debit, customer_id, _mandate_id = mollie_debit
    mollie_standin.fail_next_of("POST", 1, status=503)

    report = _collect(session)

    assert report.unavailable == [debit.id] and report.collected == report.failed == []
    debit, invoice, payment = _fresh(session, debit, invoice)
    assert debit.state == "submitted" and payment.state == "created" and payment.external_id is None

    again = _collect(session)

    assert again.collected == [debit.id]
    keys = [headers["Idempotency-Key"] for _, _, _, headers in _mollie_posts(mollie_standin)]
    assert keys == [f"debit-{debit.id}-1"] * 2, "the retry is the same request"
    [collected] = mollie_standin.payments_of(customer_id)
    debit, invoice, payment = _fresh(session, debit, invoice)
    assert payment.external_id == collected["id"] and payment.state == "pending"


def test_mollie_timing_out_after_it_created_the_payment_collects_once(
    mollie_app, session, mollie_standin, mollie_debit
) -> None:
    person, invoice, debit, customer_id, _mandate_id = mollie_debit
    mollie_standin.delay_next_of("POST", 2.0)  # longer than the 1 s time-out: the answer is lost, not the payment

    assert _collect(session).unavailable == [debit.id]
    _wait_for(lambda: len(mollie_standin.payments_of(customer_id)) == 1)
    mollie_standin.forget_idempotency_keys()  # the next run is a day later, after Mollie forgot the key

    assert _collect(session).collected == [debit.id]
    assert len(_mollie_posts(mollie_standin)) == 1, "the retry found the payment instead of making another"
    [collected] = mollie_standin.payments_of(customer_id)
    debit, invoice, payment = _fresh(session, debit, invoice)
    assert payment.external_id == collected["id"]


def test_mollie_chargeback_on_a_collected_debit_fails_it_with_the_banks_reason(
    mollie_app, session, mollie_standin, mollie_debit
) -> None:
    person, invoice, debit, _customer_id, _mandate_id = mollie_debit
    _collect(session)
    debit, invoice, payment = _fresh(session, debit, invoice)
    mollie_standin.set_status(payment.external_id, "paid")
    _mollie_webhook(mollie_app, mollie_standin, payment.external_id)
    assert _fresh(session, debit, invoice)[0].state == "collected"

    mollie_standin.add_chargeback(payment.external_id, invoice.total_cents, reason_code="AC04")
    _mollie_webhook(mollie_app, mollie_standin, payment.external_id)

    debit, invoice, payment = _fresh(session, debit, invoice)
    assert (debit.state, debit.failure_code) == ("failed", "AC04")
    assert invoice.state == "open" and invoice.outstanding_cents == invoice.total_cents
    [message] = _failure_messages(session, person)
    assert "closed" in message.body_text


# -- Stripe -----------------------------------------------------------------------------------------------


@pytest.fixture()
def stripe_debit(stripe_app, session, stripe_standin, create_customer, create_invoice, create_direct_debit):
    customer_id = stripe_standin.add_customer()
    mandate = stripe_standin.save_sepa_mandate(customer_id)
    with stripe_app.app_context():
        person, invoice, debit = _notified_debit(
            session,
            create_customer,
            create_invoice,
            create_direct_debit,
            collector="stripe",
            customer=customer_id,
            mandate=mandate["id"],
        )
        yield person, invoice, debit, customer_id, mandate


def _intent_posts(standin) -> list[tuple]:
    return [entry for entry in standin.requests if entry[0] == "POST" and entry[1] == "/v1/payment_intents"]


def _stripe_webhook(stripe_app, stripe_standin, kind: str, obj: dict[str, Any]) -> None:
    with time_machine.travel(DEBIT_DAY, tick=False):
        body, headers = stripe_standin.event(kind, obj)
        answer = stripe_app.test_client().post("/webhooks/stripe", data=body, headers=headers)
    assert answer.status_code == 200


def test_stripe_collects_a_due_debit_off_session_on_the_saved_mandate(
    stripe_app, session, stripe_standin, stripe_debit
) -> None:
    person, invoice, debit, customer_id, mandate = stripe_debit

    report = _collect(session)

    assert report.collected == [debit.id]
    debit, invoice, payment = _fresh(session, debit, invoice)
    assert debit.state == "submitted" and payment.provider == "stripe" and payment.state == "pending"
    [(_, _, form, headers)] = _intent_posts(stripe_standin)
    assert form["payment_method_types"] == ["sepa_debit"]
    assert (form["customer"], form["payment_method"], form["mandate"]) == (
        customer_id,
        mandate["payment_method"],
        mandate["id"],
    )
    assert (form["confirm"], form["off_session"]) == ("true", "true")
    assert (form["amount"], form["currency"]) == (str(invoice.total_cents), "eur")
    assert form["metadata"]["payment_id"] == str(payment.id)
    assert headers["idempotency-key"] == f"debit-{debit.id}-1"
    [intent] = stripe_standin.intents_of(customer_id)
    assert payment.external_id == intent["id"]

    assert _collect(session).collected == []
    assert len(_intent_posts(stripe_standin)) == 1

    _stripe_webhook(stripe_app, stripe_standin, "payment_intent.succeeded", stripe_standin.settle_intent(intent["id"]))
    debit, invoice, payment = _fresh(session, debit, invoice)
    assert payment.state == "paid" and debit.state == "collected" and invoice.state == "paid"
    assert payment.mandate_reference == mandate["id"], "the fresh fetch names the mandate it was collected on"


def test_stripe_debit_failing_for_insufficient_funds_fails_with_am04(
    stripe_app, session, stripe_standin, stripe_debit
) -> None:
    person, invoice, debit, customer_id, _mandate = stripe_debit
    _collect(session)
    [intent] = stripe_standin.intents_of(customer_id)

    failed = stripe_standin.settle_intent(intent["id"], failure_code="insufficient_funds")
    _stripe_webhook(stripe_app, stripe_standin, "payment_intent.payment_failed", failed)

    debit, invoice, payment = _fresh(session, debit, invoice)
    assert (payment.state, payment.failure_reason) == ("failed", "AM04")
    assert (debit.state, debit.failure_code) == ("failed", "AM04")
    assert invoice.state == "open"
    [message] = _failure_messages(session, person)
    assert "not enough money" in message.body_text


def test_stripe_refusing_an_inactive_mandate_fails_the_debit_without_a_payment(
    stripe_app, session, stripe_standin, stripe_debit
) -> None:
    person, invoice, debit, customer_id, mandate = stripe_debit
    stripe_standin.deactivate_mandate(mandate["id"])

    assert _collect(session).failed == [debit.id]

    debit, invoice, payment = _fresh(session, debit, invoice)
    assert debit.state == "failed" and payment.state == "failed"
    assert stripe_standin.intents_of(customer_id) == []


def test_stripe_down_leaves_the_debit_submitted_and_the_next_run_collects_it_once(
    stripe_app, session, stripe_standin, stripe_debit
) -> None:
    person, invoice, debit, customer_id, _mandate = stripe_debit
    stripe_standin.fail_next(1, status=500)

    assert _collect(session).unavailable == [debit.id]
    debit, invoice, payment = _fresh(session, debit, invoice)
    assert debit.state == "submitted" and payment.state == "created"

    assert _collect(session).collected == [debit.id]
    [intent] = stripe_standin.intents_of(customer_id)
    assert _fresh(session, debit, invoice)[2].external_id == intent["id"]


def test_stripe_timing_out_after_it_created_the_intent_collects_once(
    stripe_app, session, stripe_standin, stripe_debit
) -> None:
    person, invoice, debit, customer_id, _mandate = stripe_debit
    stripe_standin.delay_next(0)  # the mandate is read at once
    stripe_standin.delay_next(0)  # and the customer's payment intents (none yet)
    stripe_standin.delay_next(2.0)  # the payment intent is made, but its answer comes after the 1 s time-out

    assert _collect(session).unavailable == [debit.id]
    _wait_for(lambda: len(stripe_standin.intents_of(customer_id)) == 1)
    stripe_standin.forget_idempotency_keys()  # the next run is a day later, after Stripe's 24 hours

    assert _collect(session).collected == [debit.id]
    [intent] = stripe_standin.intents_of(customer_id)
    assert len(_intent_posts(stripe_standin)) == 1, "the retry found the intent instead of making another"
    assert _fresh(session, debit, invoice)[2].external_id == intent["id"]


def test_stripe_dispute_on_a_collected_debit_fails_it_with_the_reason(
    stripe_app, session, stripe_standin, stripe_debit
) -> None:
    person, invoice, debit, customer_id, _mandate = stripe_debit
    _collect(session)
    [intent] = stripe_standin.intents_of(customer_id)
    _stripe_webhook(stripe_app, stripe_standin, "payment_intent.succeeded", stripe_standin.settle_intent(intent["id"]))
    assert _fresh(session, debit, invoice)[0].state == "collected"

    dispute = stripe_standin.dispute_intent(intent["id"], invoice.total_cents, reason="incorrect_account_details")
    _stripe_webhook(stripe_app, stripe_standin, "charge.dispute.created", dispute)

    debit, invoice, payment = _fresh(session, debit, invoice)
    assert (debit.state, debit.failure_code) == ("failed", "AC01")
    assert invoice.state == "open" and payment.reversed_cents == invoice.total_cents
    assert len(_failure_messages(session, person)) == 1


def test_stripe_debit_whose_webhook_was_lost_is_settled_by_reconciliation(
    stripe_app, session, stripe_standin, stripe_debit
) -> None:
    person, invoice, debit, customer_id, _mandate = stripe_debit
    _collect(session)
    [intent] = stripe_standin.intents_of(customer_id)
    stripe_standin.settle_intent(intent["id"])  # paid at Stripe; its webhook never arrives

    with time_machine.travel(DEBIT_DAY + timedelta(days=1), tick=False):
        assert reconcile_payments(stripe_app) >= 1

    debit, invoice, payment = _fresh(session, debit, invoice)
    assert payment.state == "paid" and debit.state == "collected" and invoice.state == "paid"
