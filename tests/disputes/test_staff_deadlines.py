"""A dispute past its deadline: every supervisor is told once by e-mail (in their language, with a link to
the dispute's staff page), the dispute records it, and running the job again tells nobody."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from portal import clock
from portal.disputes.deadlines import _claim, missed_deadlines, tell_missed_deadlines
from portal.disputes.models import Dispute
from portal.events.models import DomainEvent
from portal.notifications.dispatch import run_due
from portal.notifications.models import OutboxMessage
from portal.scheduler import scheduled_jobs
from tests.disputes.staff_support import NOW, opened


def _told(session) -> list[OutboxMessage]:
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "dispute_deadline_missed").order_by(OutboxMessage.id)
        )
    )


def test_the_supervisors_are_told_once(app, session, create_staff, energy_invoice, dispute_on, smtp_configured) -> None:
    create_staff("supervisor", name="Sam Supervisor", email="sam@example.com", language="en")
    create_staff("supervisor", name="Suus Supervisor", email="suus@example.com", language="nl")
    create_staff("supervisor", name="Gone Supervisor", email="gone@example.com", active=False)
    create_staff("agent", email="agent@example.com")
    create_staff("admin", email="admin@example.com")
    late = opened(dispute_on, energy_invoice(), days_ago=6)  # two business days to answer: past
    on_time = opened(dispute_on, energy_invoice(), days_ago=0)

    with app.app_context(), time_machine.travel(NOW, tick=False):
        assert tell_missed_deadlines(session, clock.now()) == 1
        run_due(app)
        assert tell_missed_deadlines(session, clock.now()) == 0, "told once"
        run_due(app)

    # (The customers got the e-mail saying their question was received: not counted here.)
    received = {
        str(message["To"]): message
        for message in smtp_configured.received
        if not str(message["To"]).startswith("customer")
    }
    assert set(received) == {"sam@example.com", "suus@example.com"}
    english = received["sam@example.com"]
    # Each in their own language (the Dutch text comes with the translations).
    assert {message.recipient: message.language for message in _told(session)} == {
        "sam@example.com": "en",
        "suus@example.com": "nl",
    }
    assert english["Subject"] == f"Dispute {late.reference} has had no first answer by its deadline"
    body = english.get_body(preferencelist=("plain",)).get_content()
    assert f"{app.config['BASE_URL']}/staff/disputes/{late.id}" in body, "an absolute link to the staff page"
    assert "€66.55" in body
    found = session.get(Dispute, late.id)
    assert found.first_response_breach_told_at == NOW and found.resolution_breach_told_at is None
    assert session.get(Dispute, on_time.id).first_response_breach_told_at is None
    missed = session.scalars(select(DomainEvent).where(DomainEvent.kind == "dispute.deadline_missed")).all()
    assert [event.payload["deadline"] for event in missed] == ["first_response"]


def test_an_answered_dispute_misses_only_its_resolution_and_admins_stand_in(
    app, session, create_staff, energy_invoice, dispute_on
) -> None:
    create_staff("admin", email="ada@example.com", language="en")
    dispute = opened(dispute_on, energy_invoice(), days_ago=20)
    found = session.get(Dispute, dispute.id)
    found.first_responded_at, found.status = NOW - timedelta(days=19), "in_progress"
    session.commit()
    with app.app_context(), time_machine.travel(NOW, tick=False):
        assert [missed.deadline for missed in missed_deadlines(session, clock.now())] == ["resolution"]
        assert tell_missed_deadlines(session, clock.now()) == 1
    told = _told(session)
    assert [message.recipient for message in told] == ["ada@example.com"], "no supervisors: the admins"
    assert told[0].subject == f"Dispute {dispute.reference} is not resolved by its deadline"


def test_a_deadline_is_missed_only_once_its_day_has_passed_where_the_customer_lives(
    app, session, create_staff, create_customer, energy_invoice, dispute_on
) -> None:
    create_staff("supervisor")
    customer = create_customer(time_zone="America/Curacao")  # UTC-4: still the day before at 02:00 UTC
    dispute = opened(dispute_on, energy_invoice(customer), days_ago=0)
    due = session.get(Dispute, dispute.id).first_response_due_on
    next_day_utc = clock.datetime(due.year, due.month, due.day, tzinfo=clock.UTC) + timedelta(days=1, hours=2)
    with app.app_context():
        assert missed_deadlines(session, next_day_utc) == []
        assert [missed.deadline for missed in missed_deadlines(session, next_day_utc + timedelta(hours=3))] == [
            "first_response"
        ]


def test_the_job_is_scheduled() -> None:
    job = next(job for job in scheduled_jobs() if job.name == "disputes")
    assert job.task == "portal.disputes_deadlines" and job.every == timedelta(minutes=15)


def test_a_run_that_found_a_breach_another_run_told_in_between_tells_nobody(
    app, session, create_staff, energy_invoice, dispute_on
) -> None:
    create_staff("supervisor")
    opened(dispute_on, energy_invoice(), days_ago=6)
    with app.app_context(), time_machine.travel(NOW, tick=False):
        seen_by_the_slow_run = missed_deadlines(session, clock.now())
        assert tell_missed_deadlines(session, clock.now()) == 1  # the other process, faster
        # The slow run's claim (an UPDATE ... WHERE told_at IS NULL) changes no row, so it writes no e-mail.
        assert [_claim(session, missed, clock.now()) for missed in seen_by_the_slow_run] == [False]
        session.rollback()
    assert len(_told(session)) == 1
