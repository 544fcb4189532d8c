"""The hourly plans run: every open plan and promise moved on to where it stands now.

The scheduler (portal/scheduler.py, "payment-plans") and ``flask --app portal plans run`` run the same
``run_plans``. Each plan and each promise is handled in its own transaction, so one that fails is logged
and the others go on; every step is idempotent, so running it twice does nothing new.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.debits.policy import debit_policy
from portal.extensions import db
from portal.plans.debit_instalments import collect_instalments, prenotify
from portal.plans.lifecycle import (
    LIFECYCLE_ACTOR,
    PlansReport,
    advance_plan,
    advance_promise,
    lock_plan_for_step,
    lock_promise,
)
from portal.plans.models import OPEN_PLAN_STATES, PaymentPlan, PaymentPromise
from portal.plans.policy import plan_policy

log = logging.getLogger(__name__)


def run_plans(session: Session, now: datetime, *, actor: Actor = LIFECYCLE_ACTOR) -> PlansReport:
    """Every step due at ``now`` for every open plan and promise. Commits per plan and per promise."""
    report = PlansReport()
    policy = plan_policy(session, now)
    notice_days = debit_policy(session, now).notice_days
    plans = list(
        session.execute(
            select(PaymentPlan.id, PaymentPlan.method)
            .where(PaymentPlan.status.in_(OPEN_PLAN_STATES))
            .order_by(PaymentPlan.id)
        )
    )
    promises = list(session.scalars(select(PaymentPromise.id).where(PaymentPromise.status == "open")))
    session.commit()
    for plan_id, method in plans:
        try:
            if method == "direct_debit":
                collect_instalments(session, plan_id, now, actor=actor, report=report)
            plan = lock_plan_for_step(session, plan_id)
            if plan is not None:
                advance_plan(session, plan, now, policy, report, actor=actor)
                prenotify(session, plan, now, notice_days=notice_days, actor=actor, report=report)
            session.commit()
        except Exception:
            session.rollback()
            log.exception("plan %s: the plans run could not move it on; the next run tries again", plan_id)
            report.errors.append(plan_id)
    for promise_id in promises:
        try:
            promise = lock_promise(session, promise_id)
            if promise is not None:
                advance_promise(session, promise, now, report, actor=actor)
            session.commit()
        except Exception:
            session.rollback()
            log.exception("promise %s: the plans run could not move it on; the next run tries again", promise_id)
            report.promise_errors.append(promise_id)
    return report


def run_scheduled(app: Flask) -> object:
    with app.app_context():
        report = run_plans(db.session, clock.now())
        log.info("payment plans: %s", report.as_json())
        return report.as_json()
