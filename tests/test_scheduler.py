"""The in-process scheduler: what Celery beat runs, run by the web process when no broker is configured.

Ticks are driven by the tests with a frozen clock; nothing sleeps. These tests commit for real (leases and
messages are shared between schedulers through the database), so they use their own connections and
remove their rows afterwards.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from portal import scheduler as scheduling
from portal.clock import now as utcnow
from portal.db import make_engine
from portal.extensions import db
from portal.leases import JobLease
from portal.notifications.models import OutboxMessage
from portal.notifications.services import queue_email
from portal.scheduler import ScheduledJob, Scheduler
from tests.fixtures.databases import app_on, database_of_its_own
from tests.fixtures.factories import TEST_ACTOR

DOMAIN = "scheduler-test.example"
BROKER = "redis://127.0.0.1:6379/14"


@pytest.fixture()
def committed(database_url: str, app) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    def clean() -> None:
        with factory() as session:
            session.execute(delete(OutboxMessage).where(OutboxMessage.recipient.like(f"%@{DOMAIN}")))
            session.execute(delete(JobLease))
            session.commit()

    clean()
    yield factory
    clean()
    engine.dispose()


def _mail_app(make_app, smtp_server):
    return make_app(SMTP_URL=smtp_server.url, SMTP_FROM=f"noreply@{DOMAIN}")


def _message(factory: sessionmaker[Session], message_id: int) -> OutboxMessage:
    with factory() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.id == message_id)).one()


def test_a_message_written_while_the_mail_server_is_down_goes_out_within_one_tick_once_it_answers(
    make_app, smtp_server, frozen_clock, committed
):
    app = _mail_app(make_app, smtp_server)
    ticking = Scheduler(app)
    smtp_server.stop()
    with app.app_context():
        message_id = queue_email(
            db.session,
            to=f"debtor@{DOMAIN}",
            template="portal_link",
            language="en",
            actor=TEST_ACTOR,
            context={"customer_name": "Debtor", "link_url": "http://localhost/p/abc", "expires_on": utcnow()},
        ).id
        db.session.commit()
    waiting = _message(committed, message_id)
    assert (waiting.state, waiting.attempts) == ("queued", 1), "delivery after the commit found the server down"

    for _ in range(40):  # ten minutes of ticks while the server is down
        frozen_clock.shift(timedelta(seconds=15))
        ticking.tick()
    assert smtp_server.received == []
    down = _message(committed, message_id)
    assert down.state == "queued" and down.next_attempt_at > utcnow(), "backing off, not failed"

    smtp_server.start_again()
    frozen_clock.shift(timedelta(seconds=15))
    assert "deliver-due-messages" in ticking.tick()

    assert [str(m["Message-ID"]) for m in smtp_server.received] == [f"<outbox-{message_id}@{DOMAIN}>"]
    assert smtp_server.received[0]["Subject"].startswith("Your personal payment page")
    sent = _message(committed, message_id)
    assert sent.state == "sent" and sent.sent_at == utcnow()


def test_two_schedulers_ticking_at_once_send_each_message_once_and_run_a_job_once(
    make_app, smtp_server, frozen_clock, committed, monkeypatch
):
    runs: list[str] = []
    monkeypatch.setitem(
        scheduling._jobs,
        "count-runs",
        ScheduledJob("count-runs", "portal.test_count", timedelta(minutes=1), lambda app: runs.append("ran")),
    )
    with committed() as session:
        messages = [
            OutboxMessage(
                recipient=f"person{n}@{DOMAIN}",
                template="t",
                language="nl",
                subject=f"{n}",
                body_text="x",
                body_html="x",
            )
            for n in range(30)
        ]
        session.add_all(messages)
        session.commit()
        ids = [message.id for message in messages]
    schedulers = [Scheduler(_mail_app(make_app, smtp_server)) for _ in range(2)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def tick(one: Scheduler) -> None:
        try:
            start.wait()
            one.tick()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=tick, args=(one,)) for one in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors

    assert runs == ["ran"], "one of the two ran the job"
    counts = Counter(str(m["Message-ID"]) for m in smtp_server.received)
    assert sorted(counts) == sorted(f"<outbox-{i}@{DOMAIN}>" for i in ids)
    assert set(counts.values()) == {1}, f"sent more than once: {counts}"

    for one in schedulers:  # within the interval nobody runs it again; after it, one of them does
        one.tick()
    assert runs == ["ran"]
    frozen_clock.shift(timedelta(minutes=1))
    for one in schedulers:
        one.tick()
    assert runs == ["ran", "ran"]


def test_a_failing_job_is_logged_and_the_others_still_run(make_app, frozen_clock, committed, monkeypatch, caplog):
    runs: list[str] = []

    def broken(app):
        raise RuntimeError("provider away")

    monkeypatch.setattr(scheduling, "_jobs", {})
    scheduling.register_job(ScheduledJob("broken", "portal.test_broken", timedelta(minutes=1), broken))
    scheduling.register_job(
        ScheduledJob("fine", "portal.test_fine", timedelta(minutes=1), lambda app: runs.append("fine"))
    )
    ticking = Scheduler(make_app())
    assert ticking.tick() == ["broken", "fine"]
    assert runs == ["fine"]
    assert "scheduled job broken failed" in caplog.text and "provider away" in caplog.text
    frozen_clock.shift(timedelta(minutes=1))
    assert ticking.tick() == ["broken", "fine"], "it is tried again at its next interval"


def test_the_scheduler_starts_with_the_first_request_only_without_a_broker(make_app, committed, monkeypatch):
    monkeypatch.setattr(scheduling, "_jobs", {})  # nothing to run: this is about the thread
    embedded = make_app(SCHEDULER="auto")
    assert "portal_scheduler" not in embedded.extensions, "not when the app is created (the CLI, a worker)"
    embedded.test_client().get("/healthz")
    started = embedded.extensions["portal_scheduler"]
    try:
        assert started.thread.is_alive() and started.thread.daemon, "a daemon: it ends with the process"
        embedded.test_client().get("/healthz")
        assert embedded.extensions["portal_scheduler"] is started, "one per process"
    finally:
        started.stop()
        started.thread.join(30)

    brokered = make_app(SCHEDULER="auto", CELERY_BROKER_URL=BROKER)
    brokered.test_client().get("/healthz")
    assert "portal_scheduler" not in brokered.extensions
    assert not any(thread.name == "portal-scheduler" and thread.is_alive() for thread in threading.enumerate())

    switched_off = make_app(SCHEDULER="off")
    switched_off.test_client().get("/healthz")
    assert "portal_scheduler" not in switched_off.extensions


def test_the_scheduler_uses_the_same_jobs_as_celery_beat(make_app):
    celery = make_app(CELERY_BROKER_URL=BROKER).extensions["portal_celery"]
    schedule = celery.conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} >= {"portal.deliver_due", "portal.reconcile_payments"}
    for job in scheduling.scheduled_jobs():
        assert schedule[job.name] == {"task": job.task, "schedule": job.every.total_seconds()}
        assert job.task in celery.tasks


def test_a_scheduler_that_died_while_delivering_stops_the_mail_for_under_a_minute(
    make_app, frozen_clock, committed, monkeypatch
):
    delivery_job = scheduling._jobs["deliver-due-messages"]
    monkeypatch.setattr(scheduling, "_jobs", {delivery_job.name: delivery_job})
    dying = Scheduler(make_app(), holder="killed-worker")
    with monkeypatch.context() as killed:
        # SIGKILL in the middle of the run: the lease is never handed back.
        killed.setattr(scheduling.leases, "hand_back", lambda *args, **kwargs: None)
        assert dying.tick() == [delivery_job.name]

    other = Scheduler(make_app(), holder="other-worker")
    frozen_clock.shift(timedelta(seconds=30))
    assert other.tick() == [], "the lease still holds for a moment"
    frozen_clock.shift(timedelta(seconds=30))
    assert other.tick() == [delivery_job.name], "a minute later another scheduler delivers the mail"


# A lease short enough that a run outlasts it within a test. These tests tick in real time (the heartbeat that
# renews a lease runs on the real clock), in a database of their own, since each scheduler commits from its thread.
LEASE = timedelta(seconds=1)


@pytest.fixture()
def own_app(database_url: str, tmp_path: Path, app: Flask) -> Iterator[Flask]:
    with database_of_its_own(database_url, tmp_path, "leases") as url, app_on(url, app) as built:
        yield built


class LongJob:
    """A job whose first run lasts until the test ends it; a run that overlaps it returns at once."""

    def __init__(self, every: timedelta = LEASE, lease: timedelta = LEASE) -> None:
        self.job = ScheduledJob("long-run", "portal.test_long_run", every, self._run, timeout=lease)
        self.runs = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()
        self._lock = threading.Lock()

    def _run(self, app: Flask) -> None:
        with self._lock:
            self.runs += 1
            first = self.runs == 1
        if first:
            self.started.set()
            self.release.wait(30)
            self.finished.set()

    @contextmanager
    def running(self, scheduler: Scheduler) -> Iterator[threading.Thread]:
        """``scheduler`` ticks in a thread of its own, and its run of the job lasts as long as the block."""
        ticking = threading.Thread(target=scheduler.tick, name="long-run-tick")
        ticking.start()
        assert self.started.wait(10), "the first scheduler took the job"
        try:
            yield ticking
        finally:
            self.release.set()
            ticking.join(30)
        assert self.finished.is_set() and not ticking.is_alive()


def _tick_for(scheduler: Scheduler, seconds: float) -> list[str]:
    """Tick ``scheduler`` every 50 ms for ``seconds``; returns the names of the jobs it ran."""
    ran: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ran += scheduler.tick()
        time.sleep(0.05)
    return ran


def _stop_renewals(monkeypatch: pytest.MonkeyPatch, holder: str) -> threading.Event:
    """While the returned event is set, ``holder`` renews nothing: its process is paused, or dead."""
    paused = threading.Event()
    paused.set()
    renew = scheduling.leases.renew

    def renew_unless_paused(session: Session, name: str, renewing: str, **kwargs: Any) -> bool:
        return True if renewing == holder and paused.is_set() else renew(session, name, renewing, **kwargs)

    monkeypatch.setattr(scheduling.leases, "renew", renew_unless_paused)
    return paused


def test_a_job_that_runs_longer_than_its_lease_is_not_run_by_another_scheduler_meanwhile(own_app, monkeypatch):
    long = LongJob()
    monkeypatch.setattr(scheduling, "_jobs", {long.job.name: long.job})
    first, other = Scheduler(own_app, holder="first-worker"), Scheduler(own_app, holder="other-worker")

    with long.running(first):
        assert _tick_for(other, 2 * LEASE.total_seconds()) == [], "the running job keeps its lease"
    assert long.runs == 1


def test_a_long_run_hands_its_lease_back_at_the_end_and_the_job_runs_again_when_due(own_app, monkeypatch):
    long = LongJob()
    monkeypatch.setattr(scheduling, "_jobs", {long.job.name: long.job})
    first, other = Scheduler(own_app, holder="first-worker"), Scheduler(own_app, holder="other-worker")

    with long.running(first):
        time.sleep(1.5 * LEASE.total_seconds())  # past its lease, renewed meanwhile
    with time_machine.travel(utcnow(), tick=False) as frozen:
        # Due again an interval after the run started, so at once: the renewals end with the run.
        assert other.tick() == [long.job.name]
        assert first.tick() == [], "the other's run makes it due again an interval later"
        frozen.shift(LEASE)
        assert first.tick() == [long.job.name]
    assert long.runs == 3


def test_a_scheduler_that_stopped_renewing_mid_run_frees_the_job_after_its_lease(own_app, frozen_clock, monkeypatch):
    long = LongJob()
    monkeypatch.setattr(scheduling, "_jobs", {long.job.name: long.job})
    dead, other = Scheduler(own_app, holder="dead-worker"), Scheduler(own_app, holder="other-worker")
    _stop_renewals(monkeypatch, "dead-worker")

    with long.running(dead):
        assert other.tick() == [], "the lease holds for its time"
        frozen_clock.shift(LEASE)
        assert other.tick() == [long.job.name], "then another scheduler runs the job"
    assert long.runs == 2


def test_a_run_that_lost_its_lease_while_paused_warns_and_goes_on(own_app, frozen_clock, monkeypatch, caplog):
    long = LongJob()
    monkeypatch.setattr(scheduling, "_jobs", {long.job.name: long.job})
    paused, other = Scheduler(own_app, holder="paused-worker"), Scheduler(own_app, holder="other-worker")
    renewals_stopped = _stop_renewals(monkeypatch, "paused-worker")

    with long.running(paused) as ticking:
        frozen_clock.shift(LEASE)
        assert other.tick() == [long.job.name], "the paused process's lease ran out"
        renewals_stopped.clear()  # it wakes up, and its next renewal finds the lease taken
        deadline = time.monotonic() + 2
        while "lost its lease on long-run" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "lost its lease on long-run" in caplog.text
        assert [r.levelname for r in caplog.records if "lost its lease" in r.getMessage()] == ["WARNING"]
        assert ticking.is_alive() and not long.finished.is_set(), "the run is not stopped"
    # The paused process's hand-back leaves the other's lease alone: the job is due an interval after its run.
    assert other.tick() == []
    frozen_clock.shift(LEASE)
    assert other.tick() == [long.job.name]
