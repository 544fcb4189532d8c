"""Reconciliation on the embedded database (SQLite), whose write lock covers the whole file: it must not hold
that lock while it waits for the provider, or every other request that writes gives up ("database is locked")."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from portal import create_app
from portal.extensions import db
from portal.migrate import upgrade_to_head
from portal.payments import jobs
from portal.payments.models import Payment
from tests.conftest import TEST_SETTINGS, ClosingClient
from tests.fixtures.provider_apps import close_providers
from tests.payments.conftest import start_payment

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture()
def database_file(tmp_path: Path) -> Path:
    """A SQLite file of this test's own: the job and a second writer need real, separate connections."""
    path = tmp_path / "portal.sqlite3"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture()
def file_app(app: Flask, database_file: Path, mollie_standin) -> Iterator[Flask]:
    own = create_app(
        {
            **TEST_SETTINGS,
            "DATABASE_URL": f"sqlite:///{database_file}",
            "MOLLIE_API_KEY": mollie_standin.api_key,
            "MOLLIE_API_ENDPOINT": mollie_standin.api_endpoint,
            "PROVIDER_TIMEOUT_SECONDS": 1,
        }
    )
    own.test_client_class = ClosingClient
    yield own
    close_providers(own)
    db.scoped.remove()
    own.extensions["portal_db_engine"].dispose()
    db.scoped.configure(bind=app.extensions["portal_db_engine"])


@pytest.fixture()
def session(file_app: Flask):
    """The factories write straight into this test's own file, committed for real."""
    db.scoped.remove()
    yield db.session
    db.scoped.remove()


def _paid_payment(file_app, session, mollie_standin, create_customer, create_invoice, login) -> Payment:
    client = file_app.test_client()
    customer = create_customer(language="en")
    create_invoice(customer, number="L-1")
    login(client, customer)
    assert start_payment(client, ["L-1"]).status_code == 303
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    mollie_standin.set_status(payment.external_id, "paid")
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)
    # Never checked since: the job asks about it first.
    session.execute(update(Payment).where(Payment.id == payment.id).values(synced_at=None))
    session.commit()
    return payment


def _wait_for_request(mollie_standin, method: str, count: int) -> None:
    deadline = time.monotonic() + 10
    while len([r for r in mollie_standin.requests if r[0] == method]) < count:
        assert time.monotonic() < deadline, "the job never asked the provider"
        time.sleep(0.01)


def _another_writer_can_write(database_file: Path, payment_id: int) -> None:
    """What any other request does: begin a write transaction, write, commit, within a short busy time-out."""
    connection = sqlite3.connect(database_file, timeout=0.2, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE payments SET failure_reason = failure_reason WHERE id = ?", (payment_id,))
        connection.execute("COMMIT")
    finally:
        connection.close()


def test_while_reconciliation_waits_for_the_provider_others_can_still_write(
    file_app, session, database_file, mollie_standin, create_customer, create_invoice, login
):
    payment = _paid_payment(file_app, session, mollie_standin, create_customer, create_invoice, login)
    asked_before = len([r for r in mollie_standin.requests if r[0] == "GET"])
    mollie_standin.delay_next_of("GET", 0.9)  # the provider is slow to answer the job's question
    job = threading.Thread(target=jobs.reconcile_payments, args=(file_app,))
    job.start()
    try:
        _wait_for_request(mollie_standin, "GET", asked_before + 1)
        _another_writer_can_write(database_file, payment.id)
    finally:
        job.join()
    session.expire_all()
    assert session.get(Payment, payment.id).synced_at is not None, "the job did check the payment"


def _paid_twice_with_the_refund_not_sent(file_app, session, mollie_standin, create_customer, create_invoice, login):
    """The debtor paid one invoice with two checkouts; Mollie was down when the refund of the second was sent."""
    client = file_app.test_client()
    customer = create_customer(language="en")
    create_invoice(customer, number="L-2")
    login(client, customer)
    assert start_payment(client, ["L-2"], method="ideal").status_code == 303
    [first] = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).all()
    mollie_standin.set_status(first.external_id, "pending")  # too far along to be cancelled
    assert start_payment(client, ["L-2"], method="creditcard").status_code == 303
    session.expire_all()
    first, second = session.scalars(select(Payment).where(Payment.customer_id == customer.id).order_by(Payment.id))
    for payment in (second, first):
        mollie_standin.set_status(payment.external_id, "paid")
        if payment is first:
            mollie_standin.fail_next_of("POST", 1, 503)
        client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)
    session.expire_all()
    late = session.get(Payment, first.id)
    assert late.refund_pending_key, "the refund is noted, to be sent again"
    # Noted a while ago: the job takes it up.
    long_ago = late.updated_at - timedelta(hours=1)
    session.execute(update(Payment).where(Payment.id == late.id).values(updated_at=long_ago))
    session.commit()
    return late


def test_while_reconciliation_waits_for_a_refund_others_can_still_write(
    file_app, session, database_file, mollie_standin, create_customer, create_invoice, login
):
    late = _paid_twice_with_the_refund_not_sent(
        file_app, session, mollie_standin, create_customer, create_invoice, login
    )
    posted_before = len([r for r in mollie_standin.requests if r[0] == "POST"])
    mollie_standin.delay_next_of("POST", 0.9)  # the provider is slow to answer the refund
    job = threading.Thread(target=jobs.reconcile_payments, args=(file_app,))
    job.start()
    try:
        _wait_for_request(mollie_standin, "POST", posted_before + 1)
        _another_writer_can_write(database_file, late.id)
    finally:
        job.join()
    session.expire_all()
    late = session.get(Payment, late.id)
    assert late.refund_pending_key is None and late.reversed_cents == late.received_cents, "the refund was sent"
