"""A plan keeps the terms the debtor agreed to, and the debtor always gets what the agreement promises: the
grace period of the day they agreed, one reminder before a lapse, the whole promised day where they live, every
consent kept, and no direct debit collecting an invoice the plan collects."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from portal import clock
from portal.accounts.pausing import pause_reason
from portal.debits.jobs import run_debits
from portal.debits.models import Debit
from portal.plans.decisions import accept_counter, approve_plan, counter_plan
from portal.plans.errors import PlanProblem
from portal.plans.jobs import run_plans
from portal.plans.models import PlanConsent
from portal.plans.policy import plan_policy
from portal.plans.promises import make_promise as make_promise_service
from portal.plans.services import ConsentEvidence, eligible_invoices, propose_plan
from portal.settings.services import set_settings
from tests.plans.lifecycle_support import (
    ACTOR,
    BIG,
    CONSENT,
    agree_plan,
    in_app,  # noqa: F401 - the fixture
    mails,
    make_promise,
    moment,
    pay,
    refreshed,
)

pytestmark = pytest.mark.usefixtures("in_app")


def _run(session, day: date, hour: int = 9):
    with time_machine.travel(moment(day, hour), tick=False):
        return run_plans(session, clock.now())


def _agreed(session, create_customer, create_invoice, **customer_options):
    customer = create_customer(language="en", **customer_options)
    invoices = [create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15)) for _ in range(2)]
    with time_machine.travel(moment(date(2027, 1, 10)), tick=False):
        plan = agree_plan(session, customer, invoices, first=date(2027, 1, 20))
    return customer, invoices, plan


def test_a_later_change_of_the_grace_period_does_not_change_a_running_plan(
    session, create_customer, create_invoice
) -> None:
    customer, _invoices, plan = _agreed(session, create_customer, create_invoice)
    assert (plan.grace_days, plan.interest) == (7, "none")
    set_settings(session, {"plans.grace_days": "1"}, actor=ACTOR)
    session.commit()
    _run(session, date(2027, 1, 21))
    assert "27 January 2027" in mails(session, customer, "plan_instalment_missed")[0].body_text
    _run(session, date(2027, 1, 25))
    assert refreshed(session, plan).status == "active", "7 days agreed, not the 1 day set since"
    _run(session, date(2027, 1, 28))
    assert refreshed(session, plan).status == "lapsed"


def test_no_lapse_without_the_reminder_first_even_after_the_job_could_not_run(
    session, create_customer, create_invoice
) -> None:
    customer, _invoices, plan = _agreed(session, create_customer, create_invoice)
    report = _run(session, date(2027, 2, 2))  # the first run since the due date, long past the grace period
    assert report.missed == [plan.instalments[0].id] and report.lapsed == []
    (missed,) = mails(session, customer, "plan_instalment_missed")
    assert "8 February 2027" in missed.body_text, "the whole grace period after the reminder"
    _run(session, date(2027, 2, 8))
    assert refreshed(session, plan).status == "active"
    assert _run(session, date(2027, 2, 9)).lapsed == [plan.id]


def test_a_promise_holds_to_the_end_of_the_day_where_the_customer_lives(
    session, create_customer, create_invoice
) -> None:
    customer = create_customer(language="en", time_zone="America/Curacao")  # UTC-4
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    make_promise(session, customer, [invoice], date(2027, 1, 15))
    late_evening = datetime(2027, 1, 16, 3, 30, tzinfo=UTC)  # 23:30 on the 15th in Willemstad
    assert pause_reason(session, invoice, late_evening) == "promise"
    assert pause_reason(session, invoice, datetime(2027, 1, 16, 4, 30, tzinfo=UTC)) is None


def test_the_consent_to_the_debtors_own_proposal_is_kept_beside_the_consent_to_our_offer(
    app, session, create_customer, create_invoice
) -> None:
    customer = create_customer(language="en")
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    with time_machine.travel(moment(date(2027, 1, 10)), tick=False):
        plan = propose_plan(
            session,
            customer,
            [invoice.number],
            instalments=12,
            every="month",
            first=date(2027, 1, 20),
            consent=CONSENT,
            actor=ACTOR,
        )
        counter_plan(
            session,
            plan,
            instalments=3,
            every="month",
            first=date(2027, 1, 20),
            actor=ACTOR,
            staff_email="sup@example.com",
            supervisor=True,
        )
        offer = ConsentEvidence(text="I agree to 3 instalments.", locale="en", ip_address="10.0.0.9", user_agent="x")
        accept_counter(session, plan, consent=offer, actor=ACTOR)
        session.commit()
    consents = list(session.scalars(select(PlanConsent).where(PlanConsent.plan_id == plan.id).order_by(PlanConsent.id)))
    assert [(c.purpose, c.text) for c in consents] == [
        ("proposal", CONSENT.text),
        ("counter", "I agree to 3 instalments."),
    ]
    assert refreshed(session, plan).consent.text == "I agree to 3 instalments."


def test_a_first_date_more_than_a_year_ahead_is_refused(session, create_customer, create_invoice) -> None:
    customer = create_customer(language="en")
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    with time_machine.travel(moment(date(2027, 1, 10)), tick=False), pytest.raises(PlanProblem) as refused:
        propose_plan(
            session,
            customer,
            [invoice.number],
            instalments=3,
            every="month",
            first=date(9999, 12, 31),
            consent=CONSENT,
            actor=ACTOR,
        )
    assert refused.value.code == "first_too_far"


def test_a_periods_debit_leaves_an_invoice_in_a_plan_to_the_plan(
    session, create_customer, create_invoice, create_direct_debit
) -> None:
    customer = create_customer(language="en")
    create_direct_debit(customer, day=1, amount_cents=30250, first_period="2027-01", reference=f"UMR-H-{customer.id}")
    january = create_invoice(
        customer, lines=BIG, issue_date=date(2026, 12, 1), due_date=date(2027, 1, 1), period_start=date(2027, 1, 1)
    )
    with time_machine.travel(moment(date(2026, 12, 2)), tick=False):
        plan = agree_plan(session, customer, [january], first=date(2026, 12, 20))
    for day in (date(2026, 12, 15), date(2027, 1, 4)):  # announced, then due (1 January is no TARGET day)
        with time_machine.travel(moment(day), tick=False):
            run_debits(session, today=day)
            session.commit()
    (debit,) = session.scalars(select(Debit).where(Debit.customer_id == customer.id, Debit.period == "2027-01"))
    assert debit.state == "skipped" and debit.payment_id is None, "the plan collects it, in instalments"
    assert refreshed(session, plan).status == "active"


def test_an_invoice_a_debit_is_announced_for_cannot_join_a_plan(
    session, create_customer, create_invoice, create_direct_debit
) -> None:
    customer = create_customer(language="en")
    create_direct_debit(customer, day=25, amount_cents=30250, first_period="2027-01", reference=f"UMR-A-{customer.id}")
    january = create_invoice(
        customer, lines=BIG, issue_date=date(2026, 12, 1), due_date=date(2027, 1, 1), period_start=date(2027, 1, 1)
    )
    with time_machine.travel(moment(date(2027, 1, 5)), tick=False):
        run_debits(session, today=date(2027, 1, 5))  # pre-notifies January's debit, on the 25th
        session.commit()
        assert session.scalar(select(Debit.state).where(Debit.customer_id == customer.id)) == "notified"
        assert eligible_invoices(session, customer, plan_policy(session), date(2027, 1, 5)) == []
    assert january.number


def _countered(session, create_customer, create_invoice):
    customer = create_customer(language="en")
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    with time_machine.travel(moment(date(2027, 1, 10)), tick=False):
        plan = propose_plan(
            session,
            customer,
            [invoice.number],
            instalments=12,
            every="month",
            first=date(2027, 1, 20),
            consent=CONSENT,
            actor=ACTOR,
        )
        counter_plan(
            session,
            plan,
            instalments=3,
            every="month",
            first=date(2027, 1, 20),
            actor=ACTOR,
            staff_email="sup@example.com",
            supervisor=True,
        )
        session.commit()
    return customer, invoice, plan


def test_an_offer_not_answered_before_its_first_date_expires(session, create_customer, create_invoice) -> None:
    _customer, invoice, plan = _countered(session, create_customer, create_invoice)
    offer = ConsentEvidence(text="I agree.", locale="en", ip_address=None, user_agent=None)
    with time_machine.travel(moment(date(2027, 1, 21)), tick=False), pytest.raises(PlanProblem) as refused:
        accept_counter(session, plan, consent=offer, actor=ACTOR)
    assert refused.value.code == "counter_expired"
    session.rollback()
    assert pause_reason(session, invoice, moment(date(2027, 1, 21))) == "plan", "until the run ends the offer"
    assert _run(session, date(2027, 1, 21)).offers_expired == [plan.id]
    assert refreshed(session, plan).status == "declined"
    assert pause_reason(session, invoice, moment(date(2027, 1, 21))) is None


def test_an_offer_is_not_agreed_once_what_is_owed_changed(session, create_customer, create_invoice) -> None:
    customer, invoice, plan = _countered(session, create_customer, create_invoice)
    pay(session, customer, [invoice], 5000)
    offer = ConsentEvidence(text="I agree.", locale="en", ip_address=None, user_agent=None)
    with time_machine.travel(moment(date(2027, 1, 12)), tick=False), pytest.raises(PlanProblem) as refused:
        accept_counter(session, refreshed(session, plan), consent=offer, actor=ACTOR)
    assert refused.value.code == "amounts_changed_since_offer"


def test_staff_cannot_approve_a_proposal_once_what_is_owed_changed(session, create_customer, create_invoice) -> None:
    customer = create_customer(language="en")
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    with time_machine.travel(moment(date(2027, 1, 10)), tick=False):
        plan = propose_plan(
            session,
            customer,
            [invoice.number],
            instalments=12,
            every="month",
            first=date(2027, 1, 20),
            consent=CONSENT,
            actor=ACTOR,
        )
        session.commit()
    pay(session, customer, [invoice], 5000)
    with time_machine.travel(moment(date(2027, 1, 11)), tick=False), pytest.raises(PlanProblem) as refused:
        approve_plan(session, refreshed(session, plan), actor=ACTOR, staff_email="sup@example.com", supervisor=True)
    assert refused.value.code == "amounts_changed"


def test_a_proposal_whose_amounts_changed_after_they_were_shown_is_refused(
    session, create_customer, create_invoice
) -> None:
    customer = create_customer(language="en")
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    with time_machine.travel(moment(date(2027, 1, 10)), tick=False), pytest.raises(PlanProblem) as refused:
        propose_plan(
            session,
            customer,
            [invoice.number],
            instalments=3,
            every="month",
            first=date(2027, 1, 20),
            consent=CONSENT,
            actor=ACTOR,
            shown_total_cents=invoice.outstanding_cents + 100,
        )
    assert refused.value.code == "agreement_changed"


def test_after_a_lapse_a_new_plan_is_for_staff_and_no_promise_is_agreed_online(
    session, create_customer, create_invoice
) -> None:
    customer, _invoices, plan = _agreed(session, create_customer, create_invoice)
    _run(session, date(2027, 1, 21))
    _run(session, date(2027, 1, 28))
    assert refreshed(session, plan).status == "lapsed"
    newer = create_invoice(customer, lines=BIG, due_date=date(2027, 1, 15))
    with time_machine.travel(moment(date(2027, 2, 1)), tick=False):
        again = propose_plan(
            session,
            customer,
            [newer.number],
            instalments=2,
            every="month",
            first=date(2027, 2, 10),
            consent=CONSENT,
            actor=ACTOR,
        )
        assert (again.status, again.policy_reason) == ("proposed", "recently_not_kept")
        session.rollback()
        with pytest.raises(PlanProblem) as refused:
            make_promise_service(session, customer, [newer.number], date(2027, 2, 10), actor=ACTOR)
    assert refused.value.code == "promise_after_not_kept"
    # 90 days on, the portal agrees again on its own.
    with time_machine.travel(moment(date(2027, 5, 1)), tick=False):
        later = propose_plan(
            session,
            customer,
            [newer.number],
            instalments=2,
            every="month",
            first=date(2027, 5, 10),
            consent=CONSENT,
            actor=ACTOR,
        )
    assert later.status == "active"


def test_a_proposal_approved_later_keeps_the_grace_period_its_agreement_names(
    session, create_customer, create_invoice
) -> None:
    customer = create_customer(language="en")
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    with time_machine.travel(moment(date(2027, 1, 10)), tick=False):
        plan = propose_plan(
            session,
            customer,
            [invoice.number],
            instalments=12,
            every="month",
            first=date(2027, 1, 20),
            consent=CONSENT,
            actor=ACTOR,
        )
        session.commit()
    with time_machine.travel(moment(date(2027, 1, 11)), tick=False):
        set_settings(session, {"plans.grace_days": "3"}, actor=ACTOR)
        session.commit()
    with time_machine.travel(moment(date(2027, 1, 12)), tick=False):
        approve_plan(session, refreshed(session, plan), actor=ACTOR, staff_email="sup@example.com", supervisor=True)
        session.commit()
    assert refreshed(session, plan).grace_days == 7, "the 7 days the debtor read, not the 3 set since"
