"""Exactly once under real concurrency: many webhook deliveries and return-page visits at the same moment.

These tests run against their own database (a fresh PostgreSQL database when the suite runs on
PostgreSQL), because every thread needs its own connection and its own committed view, which the
rolled-back per-test transaction cannot give.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.events.models import DomainEvent
from portal.extensions import db
from portal.invoices.models import Invoice
from portal.links.services import create_link
from portal.notifications.models import OutboxMessage
from portal.payments import services
from portal.payments.models import Payment, PaymentAllocation, PaymentReversal
from portal.providers.registry import get_provider
from tests.fixtures.databases import app_on, database_of_its_own
from tests.fixtures.provider_apps import close_providers

SENDERS = 20
VISITORS = 5
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ACTOR = Actor(type="system", id="tests")


@pytest.fixture()
def own_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    with database_of_its_own(database_url, tmp_path, "exactly_once") as url:
        yield url


@pytest.fixture()
def concurrent_app(own_database: str, mollie_standin: Any, app: Flask) -> Iterator[Flask]:
    mollie = {"MOLLIE_API_KEY": mollie_standin.api_key, "MOLLIE_API_ENDPOINT": mollie_standin.api_endpoint}
    with app_on(own_database, app, **mollie, PROVIDER_TIMEOUT_SECONDS=10) as built:
        yield built
        close_providers(built)


def _prepare(app: Flask, mollie_standin: Any) -> tuple[int, list[int], list[str]]:
    """A customer with two open invoices and a Mollie payment for both; the stand-in already says paid."""
    with app.app_context():
        session = db.session
        customer = Customer(external_ref="CONC-1", name="Concurrent Customer", email="c@example.com", language="en")
        session.add(customer)
        session.flush()
        for n in (1, 2):
            session.add(
                Invoice(
                    customer_id=customer.id,
                    number=f"CONC-{n}",
                    issue_date=date(2026, 10, n),
                    due_date=date(2026, 10, 14 + n),
                    subtotal_cents=10_000,
                    vat_cents=2_100,
                    total_cents=12_100,
                )
            )
        session.flush()
        choice = services.choose_invoices(session, customer, ["CONC-1", "CONC-2"])
        payment = services.start_payment(
            session, customer, choice, provider="mollie", method="ideal", locale="en", actor=ACTOR
        )
        session.commit()
        services.open_checkout(
            session,
            get_provider("mollie"),
            payment,
            description="Invoices CONC-1, CONC-2",
            return_url=f"http://localhost/payments/{payment.public_id}",
            webhook_url="http://localhost/webhooks/mollie",
        )
        tokens = [
            create_link(session, customer, ttl_days=1, created_by="tests", actor=ACTOR).token for _ in range(VISITORS)
        ]
        session.commit()
        mollie_standin.set_status(payment.external_id, "paid")
        ids = (payment.id, [i.id for i in choice.invoices], tokens)
        db.scoped.remove()
    return ids


def _all_at_once(jobs: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Any) -> None:
        barrier.wait()
        try:
            results[index] = job()
        except Exception as error:  # collected and asserted on below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_concurrent_webhooks_and_return_visits_record_one_payment(
    concurrent_app: Flask, mollie_standin: Any
) -> None:
    payment_id, invoice_ids, tokens = _prepare(concurrent_app, mollie_standin)
    with concurrent_app.app_context():
        external_id = db.session.get(Payment, payment_id).external_id
        public_id = db.session.get(Payment, payment_id).public_id
        db.scoped.remove()
    body = mollie_standin.webhook_body(external_id)

    visitors = []
    for token in tokens:
        visitor = concurrent_app.test_client()
        assert visitor.get(f"/p/{token}").status_code == 302
        visitors.append(visitor)

    def webhook() -> int:
        return concurrent_app.test_client().post("/webhooks/mollie", data=body, headers=FORM).status_code

    def visit(visitor: Any) -> int:
        return visitor.get(f"/payments/{public_id}").status_code

    jobs: list[Any] = [webhook] * SENDERS + [lambda v=v: visit(v) for v in visitors]
    results = _all_at_once(jobs)
    assert results == [200] * (SENDERS + VISITORS)

    with concurrent_app.app_context():
        session = db.session
        payment = session.get(Payment, payment_id)
        assert payment.state == "paid"
        assert payment.received_cents == 24_200
        assert session.scalar(select(func.count()).where(PaymentAllocation.payment_id == payment_id)) == 2
        for invoice_id in invoice_ids:
            invoice = session.get(Invoice, invoice_id)
            assert (invoice.state, invoice.paid_cents) == ("paid", 12_100)
        assert session.scalar(select(func.count()).where(OutboxMessage.template == "payment_receipt")) == 1
        assert session.scalar(select(func.count()).where(DomainEvent.kind == "payment.paid")) == 1
        session.remove()

    # Then the bank reverses it, and the provider's webhook arrives twenty times at once.
    mollie_standin.add_chargeback(external_id, 24_200)
    assert _all_at_once([webhook] * SENDERS) == [200] * SENDERS
    with concurrent_app.app_context():
        session = db.session
        assert session.scalar(select(func.count()).where(PaymentReversal.payment_id == payment_id)) == 1
        assert session.get(Payment, payment_id).reversed_cents == 24_200
        for invoice_id in invoice_ids:
            invoice = session.get(Invoice, invoice_id)
            assert (invoice.state, invoice.paid_cents) == ("open", 0)
        session.remove()
