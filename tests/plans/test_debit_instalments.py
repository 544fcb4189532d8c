"""Instalments of a plan collected by direct debit with the demo collector: pre-notified, collected on the date
(the next TARGET day), never twice; a failed debit leaves the instalment to the missed and lapse steps."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from sqlalchemy import func, select

from portal import clock
from portal.debits.collectors import DEMO_FAILING_IBANS, DemoCollector
from portal.payments.models import Payment
from portal.plans.debit_instalments import collect_instalments
from portal.plans.errors import PlanProblem
from portal.plans.instalments import portal_instalment_choice
from portal.plans.jobs import run_plans
from portal.plans.lifecycle import PlansReport
from portal.plans.overview import plan_card
from portal.providers.base import ProviderUnavailable
from tests.plans.lifecycle_support import (
    ACTOR,
    BIG,
    agree_plan,
    in_app,  # noqa: F401 - the fixture
    mails,
    moment,
    refreshed,
)

pytestmark = pytest.mark.usefixtures("in_app")
FAILING_IBAN = next(iban for iban, code in DEMO_FAILING_IBANS.items() if code == "AM04")


def _run(session, day: date, hour: int = 9):
    with time_machine.travel(moment(day, hour), tick=False):
        return run_plans(session, clock.now())


def _payments(session, customer) -> int:
    return session.scalar(select(func.count(Payment.id)).where(Payment.customer_id == customer.id))


def _plan(session, create_customer, create_invoice, create_direct_debit, iban: str = "NL91ABNA0417164300"):
    customer = create_customer(language="en")
    create_direct_debit(customer, iban=iban, reference=f"UMR-PLAN-{customer.id}")
    invoices = [create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15)) for _ in range(2)]
    with time_machine.travel(moment(date(2027, 1, 10)), tick=False):
        plan = agree_plan(session, customer, invoices, first=date(2027, 1, 20), method="direct_debit")
    return customer, invoices, plan


def test_prenotified_collected_on_the_date_and_never_twice(
    session, create_customer, create_invoice, create_direct_debit
) -> None:
    customer, invoices, plan = _plan(session, create_customer, create_invoice, create_direct_debit)
    first, second, _third = plan.instalments
    report = _run(session, date(2027, 1, 10))
    assert report.prenotified == [first.id] and report.collected == []
    (notice,) = mails(session, customer, "plan_debit_prenotification")
    assert "201.66" in notice.subject and "20 January 2027" in notice.subject
    assert f"UMR-PLAN-{customer.id}" in notice.body_text
    assert mails(session, customer, "plan_instalment_reminder") == [], "a direct debit gets its notice instead"

    _run(session, date(2027, 1, 19))
    assert _payments(session, customer) == 0, "not before the date"
    report = _run(session, date(2027, 1, 20))
    assert report.collected == [first.id]
    first = refreshed(session, first)
    payment = session.get(Payment, first.payment_id)
    assert payment.state == "paid" and payment.method == "directdebit" and payment.amount_cents == 20166
    assert first.paid_at is not None
    _run(session, date(2027, 1, 20), hour=15)
    _run(session, date(2027, 1, 21))
    assert _payments(session, customer) == 1, "one collection per instalment, however often the job runs"

    # 20 February 2027 is a Saturday: collected on Monday the 22nd, and the notice says so, 14 days before.
    _run(session, date(2027, 2, 7))
    assert len(mails(session, customer, "plan_debit_prenotification")) == 1
    _run(session, date(2027, 2, 8))
    notices = mails(session, customer, "plan_debit_prenotification")
    assert len(notices) == 2 and "22 February 2027" in notices[1].subject
    _run(session, date(2027, 2, 20))
    assert refreshed(session, second).payment_id is None
    # Due on Saturday, collected on Monday: no Pay button meanwhile, and the pay page refuses (no paying twice).
    card = plan_card(session, refreshed(session, plan), date(2027, 2, 20))
    assert card.progress.due_now and card.collecting and not card.payable_now
    with pytest.raises(PlanProblem) as refused:
        portal_instalment_choice(session, refreshed(session, plan), date(2027, 2, 20))
    assert refused.value.code == "collected_by_debit"
    _run(session, date(2027, 2, 22))
    assert refreshed(session, second).paid_at is not None and _payments(session, customer) == 2
    assert mails(session, customer, "plan_instalment_missed") == []


def test_a_failed_instalment_debit_is_missed_then_lapses(
    session, create_customer, create_invoice, create_direct_debit
) -> None:
    customer, invoices, plan = _plan(session, create_customer, create_invoice, create_direct_debit, FAILING_IBAN)
    report = _run(session, date(2027, 1, 20))
    assert report.collect_failed == [plan.instalments[0].id]
    first = refreshed(session, plan.instalments[0])
    assert session.get(Payment, first.payment_id).state == "failed" and first.paid_at is None
    assert mails(session, customer, "debit_failed") == [], "the debits' own message is for a Debit, not a plan"
    # The debit failed: the instalment is paid in the portal now, like any other.
    card = plan_card(session, refreshed(session, plan), date(2027, 1, 20))
    assert card.payable_now and not card.collecting
    assert portal_instalment_choice(session, refreshed(session, plan), date(2027, 1, 20)).amount_cents == 20166
    report = _run(session, date(2027, 1, 21))
    assert report.missed == [first.id] and report.collected == [] and _payments(session, customer) == 1
    (missed,) = mails(session, customer, "plan_instalment_missed")
    assert "27 January 2027" in missed.body_text
    _run(session, date(2027, 1, 28))
    assert refreshed(session, plan).status == "lapsed"
    assert _payments(session, customer) == 1, "never a second debit for the same instalment"


def test_a_collector_that_does_not_answer_is_asked_again_with_the_same_payment(
    session, create_customer, create_invoice, create_direct_debit
) -> None:
    customer, _invoices, plan = _plan(session, create_customer, create_invoice, create_direct_debit)

    class Silent(DemoCollector):
        def collect(self, order):  # noqa: ANN001, ANN201
            raise ProviderUnavailable("time-out")

    with time_machine.travel(moment(date(2027, 1, 20)), tick=False):
        report = PlansReport()
        collect_instalments(session, plan.id, clock.now(), actor=ACTOR, report=report, collectors=lambda _n: Silent())
        assert report.unavailable == [plan.instalments[0].id]
        waiting = session.get(Payment, refreshed(session, plan.instalments[0]).payment_id)
        assert waiting.state == "created"
        report = run_plans(session, clock.now())
    assert report.collected == [plan.instalments[0].id]
    assert refreshed(session, plan.instalments[0]).payment_id == waiting.id and _payments(session, customer) == 1
    assert refreshed(session, waiting).state == "paid"


def test_an_instalment_debit_reversed_later_is_owed_again(
    session, create_customer, create_invoice, create_direct_debit
) -> None:
    from portal.payments.services import apply_status
    from portal.providers.base import ProviderStatus, Reversal

    customer, _invoices, plan = _plan(session, create_customer, create_invoice, create_direct_debit)
    _run(session, date(2027, 1, 20))
    first = refreshed(session, plan.instalments[0])
    payment = session.get(Payment, first.payment_id)
    assert first.paid_at is not None
    with time_machine.travel(moment(date(2027, 1, 22)), tick=False):
        status = ProviderStatus(
            external_id=payment.external_id,
            state="paid",
            amount_cents=payment.amount_cents,
            currency="EUR",
            payment_id=payment.id,
            reversals=(Reversal(external_id="chb-1", kind="chargeback", amount_cents=20166, reason="MD06"),),
        )
        apply_status(session, payment.id, status, actor=ACTOR)
        session.commit()
    report = _run(session, date(2027, 1, 23))
    assert refreshed(session, plan.instalments[0]).paid_at is None, "the money was taken back"
    assert report.missed == [first.id] and report.collected == []
    assert _payments(session, customer) == 1, "a reversed instalment is not debited again: it is paid in the portal"
    assert "201.66" in mails(session, customer, "plan_instalment_missed")[0].body_text
