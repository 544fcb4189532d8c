"""Scheduled work, and the scheduler that runs it in the web process when no Celery broker is configured.

With PORTAL_CELERY_BROKER_URL, Celery beat sends each job of the registry as a task (celery_app.py) and
this scheduler never starts. Without a broker (the demo, ``make run``, a small deployment) the first
request starts a daemon thread in each web process that ticks every few seconds; a lease row per job
(portal/leases.py) makes the processes agree, so a job runs once per interval however many processes
tick, and never twice at once: a run renews its lease for as long as it lasts. Messages are claimed one by
one as well (notifications/delivery.py), so none is sent twice. A failing job is logged and runs again at
its next interval.

A feature adds its own work with ``register_job(ScheduledJob(...))`` in its package (imported by
create_app), and both Celery beat and this scheduler run it.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from portal import clock, leases
from portal.extensions import db

log = logging.getLogger(__name__)

# How often the thread wakes up to see whether a job is due; the jobs' own intervals decide what runs.
TICK_SECONDS = 5.0
# A running job renews its lease this many times per lease time, so a renewal or two may fail (the database
# busy for a moment) before the lease runs out.
RENEWALS_PER_LEASE = 3


@dataclass(frozen=True)
class ScheduledJob:
    name: str  # also the name of its lease
    task: str  # the Celery task that beat sends
    every: timedelta  # beat's interval
    run: Callable[[Flask], object]
    # The interval in the web process, when shorter than beat's: there is no worker that delivers at once.
    every_here: timedelta | None = None
    # The lease time: a run renews its lease while it lasts, and a process that died mid-run frees the job after this.
    timeout: timedelta = timedelta(minutes=10)

    @property
    def interval_here(self) -> timedelta:
        return self.every_here or self.every


_jobs: dict[str, ScheduledJob] = {}


def register_job(job: ScheduledJob) -> None:
    _jobs[job.name] = job


def scheduled_jobs() -> list[ScheduledJob]:
    return list(_jobs.values())


def _deliver_due_messages(app: Flask) -> object:
    from portal.notifications.dispatch import run_due

    return run_due(app)


def _reconcile_payments(app: Flask) -> object:
    from portal.payments.jobs import reconcile_payments

    return reconcile_payments(app)


# Messages every 15 seconds here, so none waits more than about 20 seconds once the mail server answers.
# The lease of a process that died mid-run frees the job after DELIVERY_TIMEOUT, so mail stops for well under a
# minute, not for minutes. A run that is merely slow keeps renewing its lease; one paused for longer than that
# may overlap with another, which is safe: messages are claimed one by one in the outbox (notifications/delivery.py).
DELIVERY_TIMEOUT = timedelta(seconds=45)
register_job(
    ScheduledJob(
        "deliver-due-messages",
        "portal.deliver_due",
        timedelta(seconds=60),
        _deliver_due_messages,
        every_here=timedelta(seconds=15),
        timeout=DELIVERY_TIMEOUT,
    )
)
register_job(ScheduledJob("reconcile-payments", "portal.reconcile_payments", timedelta(minutes=5), _reconcile_payments))


def _run_debits(app: Flask) -> object:
    from portal.debits.jobs import run_scheduled

    return run_scheduled(app)


# Idempotent, so running it every hour (the first run after midnight does the day's work) costs only a query.
register_job(ScheduledJob("direct-debits", "portal.run_debits", timedelta(hours=1), _run_debits))


def _run_plans(app: Flask) -> object:
    from portal.plans.jobs import run_scheduled

    return run_scheduled(app)


# Payment plans and promises: reminders, instalments paid or missed, lapses, direct-debit instalments. Idempotent
# like the debits' run; hourly, so a reminder goes out within the hour a customer's day begins.
register_job(ScheduledJob("payment-plans", "portal.run_plans", timedelta(hours=1), _run_plans))


def _tell_dispute_deadlines(app: Flask) -> object:
    from portal.disputes.deadlines import run_scheduled

    return run_scheduled(app)


# Disputes past a deadline: the supervisors are told once per breach (portal/disputes/deadlines.py). Registered
# here with the others, not in the disputes package: create_app starts Celery (which reads this registry for
# its tasks and beat schedule) before the feature packages are imported.
register_job(ScheduledJob("disputes", "portal.disputes_deadlines", timedelta(minutes=15), _tell_dispute_deadlines))


class Scheduler:
    """Runs the due jobs of the registry for one app; ``tick()`` is one round, ``start()`` a thread of rounds."""

    def __init__(self, app: Flask, holder: str | None = None) -> None:
        self.app = app
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def tick(self) -> list[str]:
        """Run every job that is due and whose lease this scheduler gets; returns the names of those run."""
        ran = []
        for job in scheduled_jobs():
            try:
                with self.app.app_context():
                    if self._run_if_due(job):
                        ran.append(job.name)
            except Exception:  # noqa: BLE001 - the database may be away for a moment; the next tick tries again
                log.exception("scheduler: could not run %s", job.name)
        return ran

    def _run_if_due(self, job: ScheduledJob) -> bool:
        started = clock.now()
        hold_until = started + max(job.interval_here, job.timeout)
        if not leases.take(db.session, job.name, self.holder, now=started, until=hold_until):
            return False
        try:
            with self._lease_renewed(job, hold_until):
                job.run(self.app)
        except Exception:  # noqa: BLE001 - logged; the job runs again at its next interval
            log.exception("scheduled job %s failed; it runs again in %s", job.name, job.interval_here)
        finally:
            db.session.rollback()
            leases.hand_back(db.session, job.name, self.holder, next_due=started + job.interval_here)
        return True

    @contextmanager
    def _lease_renewed(self, job: ScheduledJob, held_until: datetime) -> Iterator[None]:
        """Renew the job's lease from a daemon thread while the block runs, so a run longer than its lease keeps
        it; the thread dies with the process, so a process that dies mid-run frees the job a lease time later."""
        done = threading.Event()
        heartbeat = threading.Thread(
            target=self._renew, args=(job, held_until, done), name=f"portal-lease-{job.name}", daemon=True
        )
        heartbeat.start()
        try:
            yield
        finally:
            done.set()
            # Before the hand-back: a renewal after it would postpone the job's next run.
            heartbeat.join()

    def _renew(self, job: ScheduledJob, held_until: datetime, done: threading.Event) -> None:
        every = job.timeout.total_seconds() / RENEWALS_PER_LEASE
        while not done.wait(every):
            # Never earlier than the lease taken, which lasts an interval at least: should this process die, the
            # job is not run again before it is due.
            held_until = max(held_until, clock.now() + job.timeout)
            try:
                # A session of its own: the job's (scoped to its thread) may be in the middle of a transaction.
                with Session(self.app.extensions["portal_db_engine"]) as session:
                    kept = leases.renew(session, job.name, self.holder, until=held_until)
            except Exception:  # noqa: BLE001 - the database may be away for a moment; the next renewal tries again
                log.warning("scheduler: could not renew the lease on %s", job.name, exc_info=True)
                continue
            if not kept:
                # Paused for longer than the lease: another process took the job and may be running it too.
                # This run goes on (stopping it half-way could leave more harm than finishing it).
                log.warning(
                    "scheduler: %s lost its lease on %s to another process while running it", self.holder, job.name
                )
                return

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name="portal-scheduler", daemon=True)
        self.thread.start()
        atexit.register(self.stop)

    def stop(self) -> None:
        self._stopping.set()

    def _loop(self) -> None:
        log.info("in-process scheduler started (%s): no Celery broker is configured", self.holder)
        while not self._stopping.is_set():
            self.tick()
            self._stopping.wait(TICK_SECONDS)


def init_scheduler(app: Flask) -> None:
    """Without a broker, start the scheduler with the first request this process serves.

    Not at import or in create_app: ``flask`` commands, Celery workers and a reloader's watching parent
    serve no requests, and gunicorn starts it in each worker after the fork. PORTAL_SCHEDULER=off leaves
    scheduled work to cron (``flask jobs run-due``).
    """
    if app.config.get("CELERY_BROKER_URL") or app.config.get("SCHEDULER") == "off":
        return
    lock = threading.Lock()

    @app.before_request
    def _start_scheduler() -> None:
        if "portal_scheduler" in app.extensions:
            return
        with lock:
            if "portal_scheduler" not in app.extensions:
                scheduler = Scheduler(app)
                scheduler.start()
                app.extensions["portal_scheduler"] = scheduler
