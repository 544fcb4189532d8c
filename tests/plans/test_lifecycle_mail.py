"""The mail server down while the plans run: the e-mails wait in the outbox, the plans move on regardless."""

from __future__ import annotations

from datetime import date

import time_machine
from sqlalchemy import select

from portal import clock
from portal.notifications.dispatch import run_due
from portal.notifications.models import OutboxMessage
from portal.plans.jobs import run_plans
from tests.plans.lifecycle_support import BIG, agree_plan, moment, refreshed


def test_mail_server_down_while_the_job_runs(app, session, create_customer, create_invoice, smtp_configured) -> None:
    customer = create_customer(language="en")
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    with app.app_context():
        with time_machine.travel(moment(date(2027, 1, 10)), tick=False):
            plan = agree_plan(session, customer, [invoice], first=date(2027, 1, 20))
        smtp_configured.stop()
        with time_machine.travel(moment(date(2027, 1, 17)), tick=False):
            report = run_plans(session, clock.now())
            run_due(app)
        assert report.reminded == [plan.instalments[0].id] and report.errors == []
        assert refreshed(session, plan.instalments[0]).reminded_at is not None, "the plan moved on"
        waiting = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "plan_instalment_reminder")
        ).one()
        assert waiting.state != "sent" and smtp_configured.received == []

        smtp_configured.start_again()
        with time_machine.travel(moment(date(2027, 1, 17), hour=10), tick=False):
            run_plans(session, clock.now())  # again: nothing new is queued
            run_due(app)
        # (The e-mail confirming the agreement, sent by another part, may be among them.)
        received = [message["Subject"] for message in smtp_configured.received]
        reminders = [subject for subject in received if subject.startswith("Instalment")]
        assert reminders == ["Instalment 1 of your payment plan: €100.83 by 20 January 2027"]
