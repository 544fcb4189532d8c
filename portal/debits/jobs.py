"""The daily direct-debit run: pre-notify what comes within reach, then collect what is due.

Celery beat (or the in-process scheduler) runs it; ``flask --app portal debits collect`` runs the same.
Each schedule is pre-notified in its own transaction, each debit collected in its own (collection.py).
"""

from __future__ import annotations

import logging
from datetime import date

from flask import Flask
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.debits.collection import COLLECTOR_ACTOR, CollectReport, collect_due
from portal.debits.expiry import expire_unused_mandates
from portal.debits.messages import queue_prenotification
from portal.debits.models import DebitSchedule
from portal.debits.policy import debit_policy
from portal.debits.services import prenotify_schedule, schedules_to_prenotify
from portal.extensions import db

log = logging.getLogger(__name__)
BUSINESS_ZONE = clock.BUSINESS_ZONE


def business_today() -> date:
    return clock.today(BUSINESS_ZONE)


def prenotify_all(session: Session, *, today: date, actor: Actor = COLLECTOR_ACTOR) -> int:
    """Write and announce every debit that has come within its pre-notification reach; returns how many."""
    policy = debit_policy(session)
    written = 0
    for schedule_id in schedules_to_prenotify(session):
        schedule = session.get(DebitSchedule, schedule_id)
        if schedule is None:
            continue
        debits = prenotify_schedule(session, schedule, today=today, actor=actor, policy=policy)
        if debits:
            queue_prenotification(session, schedule.mandate, debits, actor=actor)
            written += len(debits)
        session.commit()
    return written


def run_debits(session: Session, *, today: date) -> tuple[int, CollectReport]:
    expire_unused_mandates(session, today=today, actor=COLLECTOR_ACTOR)
    session.commit()
    notified = prenotify_all(session, today=today)
    return notified, collect_due(session, today=today)


def run_scheduled(app: Flask) -> object:
    with app.app_context():
        notified, report = run_debits(db.session, today=business_today())
        log.info("debits: %s pre-notified; %s", notified, report.as_json())
        return notified
