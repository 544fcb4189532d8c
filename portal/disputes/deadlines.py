"""Dispute deadlines that passed: the supervisors are told once per deadline, through the outbox.

A deadline is missed once its day has passed where the customer lives: the first response while nobody has
answered (status open), the resolution while the dispute is still open or in progress. The scheduler
(portal/scheduler.py, "disputes") runs ``run_scheduled`` every 15 minutes.

Two processes may run it at once: each breach is claimed with an UPDATE that only changes a row whose
"told at" is still empty, and only the process whose UPDATE changed the row writes the e-mails. Each
breach is committed on its own, so a claim is never held longer than its e-mails take to write.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from portal import clock
from portal.audit.services import Actor
from portal.disputes import events as dispute_events
from portal.disputes.models import OPEN_DISPUTE_STATES, Dispute, DisputeInvoice
from portal.events import emit
from portal.extensions import db
from portal.notifications.services import queue_email
from portal.staff.models import StaffUser

log = logging.getLogger(__name__)

DEADLINES_ACTOR = Actor(type="system", id="disputes")
FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
TEMPLATE = "dispute_deadline_missed"
# The staff page of a dispute (staff_views: url_prefix "/staff/disputes"); a job has no request to build URLs in.
STAFF_PATH = "/staff/disputes/{id}"


@dataclass(frozen=True)
class Missed:
    dispute: Dispute
    deadline: str  # FIRST_RESPONSE or RESOLUTION
    due_on: date


def _told_column(deadline: str) -> InstrumentedAttribute[datetime | None]:
    return Dispute.first_response_breach_told_at if deadline == FIRST_RESPONSE else Dispute.resolution_breach_told_at


def _still_missed(deadline: str) -> ColumnElement[bool]:
    """The SQL condition that the deadline is still unmet and untold (the day itself is checked per customer)."""
    if deadline == FIRST_RESPONSE:
        return and_(
            Dispute.status == "open",
            Dispute.first_responded_at.is_(None),
            Dispute.first_response_breach_told_at.is_(None),
        )
    return and_(Dispute.status.in_(OPEN_DISPUTE_STATES), Dispute.resolution_breach_told_at.is_(None))


def missed_deadlines(session: Session, now: datetime) -> list[Missed]:
    """Every deadline missed at ``now`` and not yet told, oldest deadline first."""
    # Nowhere is it more than a day later than in UTC: a cheap bound, refined per customer below.
    latest_passed = now.date() + timedelta(days=1)
    candidates = session.scalars(
        select(Dispute)
        .where(
            or_(
                and_(_still_missed(FIRST_RESPONSE), Dispute.first_response_due_on < latest_passed),
                and_(_still_missed(RESOLUTION), Dispute.resolution_due_on < latest_passed),
            )
        )
        .options(selectinload(Dispute.customer), selectinload(Dispute.invoices).selectinload(DisputeInvoice.invoice))
        .order_by(Dispute.id)
    )
    found = []
    for dispute in candidates:
        today = clock.today_for(dispute.customer, now)
        if (
            dispute.status == "open"
            and dispute.first_responded_at is None
            and dispute.first_response_breach_told_at is None
            and today > dispute.first_response_due_on
        ):
            found.append(Missed(dispute, FIRST_RESPONSE, dispute.first_response_due_on))
        if dispute.resolution_breach_told_at is None and today > dispute.resolution_due_on:
            found.append(Missed(dispute, RESOLUTION, dispute.resolution_due_on))
    return sorted(found, key=lambda missed: (missed.due_on, missed.dispute.id))


def supervisors(session: Session) -> list[StaffUser]:
    """Who is told: every active supervisor; the administrators when there is none, so a breach is never lost."""
    for role in ("supervisor", "admin"):
        found = list(
            session.scalars(
                select(StaffUser).where(StaffUser.role == role, StaffUser.active.is_(True)).order_by(StaffUser.id)
            )
        )
        if found:
            return found
    return []


def _claim(session: Session, missed: Missed, now: datetime) -> bool:
    """Mark the breach told; False when another run did so first (its UPDATE waited for ours, or ours for it)."""
    column = _told_column(missed.deadline)
    result = session.execute(
        update(Dispute)
        .where(Dispute.id == missed.dispute.id, _still_missed(missed.deadline))
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def tell_missed_deadlines(session: Session, now: datetime, *, base_url: str | None = None) -> int:
    """E-mail the supervisors about each deadline missed at ``now``, once; the number of breaches told.
    Commits after each breach."""
    base = (base_url or current_app.config["BASE_URL"]).rstrip("/")
    missed_now = missed_deadlines(session, now)
    told = 0
    for missed in missed_now:
        try:
            if not _claim(session, missed, now):
                session.rollback()
                continue
            dispute = missed.dispute
            session.refresh(dispute)
            recipients = supervisors(session)
            for staff in recipients:
                queue_email(
                    session,
                    to=staff.email,
                    template=TEMPLATE,
                    language=staff.language,
                    context={
                        "staff_name": staff.name,
                        "reference": dispute.reference,
                        "customer_name": dispute.customer.name,
                        "deadline": missed.deadline,
                        "due_on": missed.due_on,
                        "held_cents": dispute.held_cents,
                        "currency": dispute.currency,
                        "invoices": [covered.invoice.number for covered in dispute.invoices],
                        "url": base + STAFF_PATH.format(id=dispute.id),
                    },
                    actor=DEADLINES_ACTOR,
                )
            emit(
                session,
                dispute_events.about_dispute(
                    dispute_events.DEADLINE_MISSED,
                    dispute,
                    DEADLINES_ACTOR,
                    deadline=missed.deadline,
                    due_on=missed.due_on.isoformat(),
                    told=len(recipients),
                ),
            )
            session.commit()
            told += 1
        except Exception:
            session.rollback()
            log.exception(
                "dispute %s: telling the missed %s deadline failed; the next run tries again",
                missed.dispute.id,
                missed.deadline,
            )
    return told


def run_scheduled(app: Flask) -> object:
    with app.app_context():
        told = tell_missed_deadlines(db.session, clock.now())
        log.info("dispute deadlines: %s breaches told", told)
        return {"told": told}
