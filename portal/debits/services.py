"""Schedules and their debits in the database: what comes next, moving the day, and pre-notifying.

The date rules themselves live in ``rules``; this module feeds them what is stored (the debits already
notified, the changes of the past year, the policy in force) and writes what follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.debits import events as debit_events
from portal.debits import rules
from portal.debits.errors import DebitProblem
from portal.debits.models import DayChange, Debit, DebitSchedule, Mandate
from portal.debits.policy import DebitPolicy, debit_policy
from portal.events import emit

# Debits still to come: their dates were told to the debtor and they have not been collected yet.
WAITING = ("notified", "submitted")
# A debit is pre-notified this many days before its notice period starts, so a debtor always has at least the
# notice period (and usually a week more) to move it or to make sure the money is there.
PRENOTIFY_AHEAD_DAYS = 7


def active_schedule(session: Session, customer_id: int) -> DebitSchedule | None:
    """The customer's running schedule on an active mandate, if any (the newest, should there be several)."""
    return session.scalars(
        select(DebitSchedule)
        .join(Mandate, Mandate.id == DebitSchedule.mandate_id)
        .where(
            DebitSchedule.customer_id == customer_id,
            DebitSchedule.ended_at.is_(None),
            Mandate.status == "active",
        )
        .options(selectinload(DebitSchedule.debits), selectinload(DebitSchedule.mandate))
        .order_by(DebitSchedule.id.desc())
        .limit(1)
    ).first()


def next_unnotified_period(schedule: DebitSchedule) -> str:
    """The first period that has no debit yet: periods are taken in order, so none is skipped (rule 4)."""
    periods = [debit.period for debit in schedule.debits]
    if not periods:
        return schedule.first_period
    return max(schedule.first_period, rules.next_period(max(periods)))


def _known(schedule: DebitSchedule) -> list[rules.KnownDebit]:
    return [
        rules.KnownDebit(debit.period, debit.due_on, debit.amount_cents)
        for debit in schedule.debits
        if debit.state in WAITING
    ]


def upcoming_debits(
    session: Session, schedule: DebitSchedule, *, today: date, count: int = 3, policy: DebitPolicy | None = None
) -> list[rules.PlannedDebit]:
    """The next ``count`` debits of ``schedule`` with date and amount: the pre-notification the debtor sees."""
    policy = policy or debit_policy(session)
    return rules.upcoming(
        day_of_month=schedule.day_of_month,
        amount_cents=schedule.amount_cents,
        today=today,
        notice_days=policy.notice_days,
        next_unnotified=next_unnotified_period(schedule),
        notified=_known(schedule),
        count=count,
        last_period=schedule.last_period,
    )


def changes_in_window(session: Session, schedule: DebitSchedule) -> int:
    """Changes of day in the twelve months before this moment (rule 5)."""
    since = clock.now() - rules.CHANGE_WINDOW
    return int(
        session.scalar(
            select(func.count(DayChange.id)).where(DayChange.schedule_id == schedule.id, DayChange.changed_at > since)
        )
        or 0
    )


def preview_day_change(
    session: Session, schedule: DebitSchedule, new_day: int, *, today: date, policy: DebitPolicy | None = None
) -> rules.DayChangePreview:
    """What moving ``schedule`` to ``new_day`` would do: the next three debits before and after, and whether it may."""
    policy = policy or debit_policy(session)
    return rules.preview(
        current_day=schedule.day_of_month,
        new_day=new_day,
        amount_cents=schedule.amount_cents,
        today=today,
        notice_days=policy.notice_days,
        next_unnotified=next_unnotified_period(schedule),
        notified=_known(schedule),
        allowed_days=policy.allowed_days,
        changes_in_window=changes_in_window(session, schedule),
        changes_per_year=policy.changes_per_year,
        last_period=schedule.last_period,
    )


@dataclass(frozen=True)
class DayChangeResult:
    preview: rules.DayChangePreview
    moved: list[Debit]  # notified debits whose date changed: each gets a new pre-notification


def change_day(
    session: Session, schedule: DebitSchedule, new_day: int, *, actor: Actor, changed_by: str, today: date | None = None
) -> DayChangeResult:
    """Move ``schedule`` to ``new_day`` under the rules; raises DebitProblem when they do not allow it.

    Notified debits that are not fixed get their new date (and the caller's new pre-notification); the rest
    follows from the new day. Nothing is committed here.
    """
    # One change at a time per schedule, so two confirmations at once cannot both pass the yearly limit.
    session.execute(select(DebitSchedule.id).where(DebitSchedule.id == schedule.id).with_for_update())
    session.refresh(schedule)
    policy = debit_policy(session)
    today = today or clock.today_for(schedule.customer)
    if schedule.mandate.status != "active" or schedule.ended_at is not None:
        raise DebitProblem("mandate_not_active")
    preview = preview_day_change(session, schedule, new_day, today=today, policy=policy)
    if not preview.allowed:
        raise DebitProblem(preview.reason or "day_not_allowed", limit=policy.changes_per_year)
    moved = []
    for debit in schedule.debits:
        if debit.state != "notified" or rules.is_fixed(debit.due_on, today, policy.notice_days):
            continue
        new_date = rules.debit_date(debit.period, new_day)
        if not rules.is_fixed(new_date, today, policy.notice_days) and new_date != debit.due_on:
            debit.due_on = new_date
            debit.notified_at = clock.now()
            debit.updated_at = clock.now()
            moved.append(debit)
    old_day = schedule.day_of_month
    schedule.day_of_month = new_day
    schedule.updated_at = clock.now()
    session.add(DayChange(schedule_id=schedule.id, from_day=old_day, to_day=new_day, changed_by=changed_by))
    emit(
        session,
        debit_events.about_schedule(
            debit_events.DAY_CHANGED,
            schedule,
            actor,
            from_day=old_day,
            to_day=new_day,
            before=[debit.as_json() for debit in preview.before],
            after=[debit.as_json() for debit in preview.after],
        ),
    )
    return DayChangeResult(preview, moved)


def prenotify_schedule(
    session: Session, schedule: DebitSchedule, *, today: date, actor: Actor, policy: DebitPolicy
) -> list[Debit]:
    """Write the debits of ``schedule`` that are due for their pre-notification; returns them (new rows)."""
    horizon = today + timedelta(days=policy.notice_days + PRENOTIFY_AHEAD_DAYS)
    earliest = rules.earliest_new_date(today, policy.notice_days)
    written = []
    while True:
        period = next_unnotified_period(schedule)
        if schedule.last_period is not None and period > schedule.last_period:
            break
        on = max(rules.debit_date(period, schedule.day_of_month), earliest)
        if on > horizon:
            break
        debit = Debit(
            schedule=schedule,
            customer_id=schedule.customer_id,
            period=period,
            due_on=on,
            amount_cents=schedule.amount_cents,
            currency=schedule.currency,
            state="notified",
            notified_at=clock.now(),
        )
        session.add(debit)
        session.flush()
        emit(session, debit_events.about_debit(debit_events.NOTIFIED, debit, actor))
        written.append(debit)
    return written


def schedules_to_prenotify(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(DebitSchedule.id)
            .join(Mandate, Mandate.id == DebitSchedule.mandate_id)
            .where(DebitSchedule.ended_at.is_(None), Mandate.status == "active")
            .order_by(DebitSchedule.id)
        )
    )


def stop_mandate(session: Session, mandate: Mandate, *, actor: Actor, today: date | None = None) -> list[Debit]:
    """Revoke ``mandate``: its schedules end, and debits not yet fixed are cancelled. Returns the fixed ones, which
    still happen as notified (the debtor was told, and the bank may already have them)."""
    session.execute(select(Mandate.id).where(Mandate.id == mandate.id).with_for_update())
    session.refresh(mandate)
    if mandate.status != "active":
        raise DebitProblem("mandate_not_active")
    policy = debit_policy(session)
    today = today or clock.today_for(mandate.customer)
    now = clock.now()
    mandate.status = "revoked"
    mandate.revoked_at = now
    still_fixed = []
    schedules = session.scalars(select(DebitSchedule).where(DebitSchedule.mandate_id == mandate.id)).all()
    for schedule in schedules:
        schedule.ended_at = schedule.ended_at or now
        for debit in schedule.debits:
            if debit.state == "submitted" or (
                debit.state == "notified" and rules.is_fixed(debit.due_on, today, policy.notice_days)
            ):
                still_fixed.append(debit)
            elif debit.state == "notified":
                debit.state = "cancelled"
                debit.updated_at = now
                emit(session, debit_events.about_debit(debit_events.CANCELLED, debit, actor))
    emit(session, debit_events.about_mandate(debit_events.MANDATE_REVOKED, mandate, actor))
    return still_fixed


def customer_of(session: Session, schedule: DebitSchedule) -> Customer:
    return session.get_one(Customer, schedule.customer_id)
