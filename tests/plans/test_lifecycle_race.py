"""A payment of an instalment racing the lapse job, on two real connections: never paid *and* lapsed.

Each test has its own database (as tests/payments/test_exactly_once.py), because each thread needs its own
connection and its own committed view. One side is held at the critical moment (holding its locks) while the
other starts, so both orders are exercised rather than left to chance.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask

from portal import clock
from portal.customers.models import Customer
from portal.events.registry import kind_named
from portal.extensions import db
from portal.invoices.models import Invoice
from portal.payments import events as payment_events
from portal.payments.models import Payment
from portal.plans import lifecycle
from portal.plans.jobs import run_plans
from portal.plans.models import PaymentPlan, PlanInstalment
from tests.fixtures.databases import app_on, database_of_its_own
from tests.plans.lifecycle_support import agree_plan, confirm, moment, pay

LAPSE_DAY = date(2027, 1, 28)  # the first instalment was due on the 20th; 7 days' grace ended on the 27th


@pytest.fixture()
def own_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    with database_of_its_own(database_url, tmp_path, "plans_race") as url:
        yield url


@pytest.fixture()
def race_app(own_database: str, app: Flask) -> Iterator[Flask]:
    with app_on(own_database, app) as built:
        yield built


def _prepare(app: Flask) -> tuple[int, int]:
    """A running plan whose first instalment (100.83) is past its grace, and a checkout started for it."""
    with app.app_context():
        session = db.session
        customer = Customer(external_ref="RACE-1", name="Race Customer", email="race@example.com", language="en")
        session.add(customer)
        session.flush()
        invoice = Invoice(
            customer_id=customer.id,
            number="RACE-1",
            issue_date=date(2026, 10, 1),
            due_date=date(2026, 10, 15),
            subtotal_cents=25_000,
            vat_cents=5_250,
            total_cents=30_250,
        )
        session.add(invoice)
        session.commit()
        with time_machine.travel(moment(date(2027, 1, 10)), tick=False):
            plan = agree_plan(session, customer, [invoice], first=date(2027, 1, 20))
        with time_machine.travel(moment(date(2027, 1, 27), hour=21), tick=False):
            payment = pay(session, customer, [invoice], 10_083, state="created")
        ids = plan.id, payment.id
        db.scoped.remove()
    return ids


def _outcome(app: Flask, plan_id: int) -> tuple[str, bool]:
    with app.app_context():
        plan = db.session.get(PaymentPlan, plan_id)
        first = db.session.get(PlanInstalment, plan.instalments[0].id)
        outcome = plan.status, first.paid_at is not None
        db.scoped.remove()
    return outcome


def _in_thread(app: Flask, job: Any, errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            with app.app_context():
                job()
                db.scoped.remove()
        except BaseException as error:  # asserted on below
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_the_job_waits_for_a_payment_that_holds_the_invoices(race_app: Flask, monkeypatch) -> None:
    """The payment has locked the invoices and not committed yet when the job starts: the job must wait for it
    and then see the money. (The checkout no longer holds a lapse back here, so only the locks decide.)"""
    plan_id, payment_id = _prepare(race_app)
    monkeypatch.setattr(lifecycle, "UNDER_WAY_FOR", timedelta(0))
    holding, release = threading.Event(), threading.Event()

    def hold(_session: Any, _event: Any) -> None:
        holding.set()
        release.wait(10)

    # Before every other reaction: the payment holds the invoices it allocated to, and nothing of the plan yet.
    reactions = kind_named(payment_events.PAID).reactions
    reactions.insert(0, hold)
    errors: list[BaseException] = []
    reports: list[Any] = []
    try:
        with time_machine.travel(moment(LAPSE_DAY), tick=False):
            payer = _in_thread(race_app, lambda: confirm(db.session, db.session.get(Payment, payment_id)), errors)
            assert holding.wait(10)
            job = _in_thread(race_app, lambda: reports.append(run_plans(db.session, clock.now())), errors)
            job.join(0.5)
            assert job.is_alive(), "the job waits for the payment's locks"
            release.set()
            payer.join(20)
            job.join(20)
    finally:
        reactions.remove(hold)
        release.set()
    assert errors == []
    assert reports[0].lapsed == [] and reports[0].errors == []
    assert _outcome(race_app, plan_id) == ("active", True)


def test_a_payment_confirmed_while_the_job_holds_the_plan(race_app: Flask, monkeypatch) -> None:
    """The job has locked customer, invoices and plan and is deciding when the payment is confirmed: the payment
    waits for the job, and the job, seeing a checkout under way for the plan's invoices, does not lapse it."""
    plan_id, payment_id = _prepare(race_app)
    holding, release = threading.Event(), threading.Event()
    real = lifecycle.payment_under_way

    def under_way(session: Any, plan: Any, now: Any) -> bool:
        holding.set()
        release.wait(10)
        return real(session, plan, now)

    monkeypatch.setattr(lifecycle, "payment_under_way", under_way)
    errors: list[BaseException] = []
    reports: list[Any] = []
    with time_machine.travel(moment(LAPSE_DAY), tick=False):
        job = _in_thread(race_app, lambda: reports.append(run_plans(db.session, clock.now())), errors)
        assert holding.wait(10)
        payer = _in_thread(race_app, lambda: confirm(db.session, db.session.get(Payment, payment_id)), errors)
        payer.join(0.5)
        assert payer.is_alive(), "the payment waits for the job's locks"
        release.set()
        job.join(20)
        payer.join(20)
    assert errors == []
    assert reports[0].lapsed == []
    assert _outcome(race_app, plan_id) == ("active", True)
