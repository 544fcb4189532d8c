"""Reading the audit trail: filtering, counting, a page at a time, and in chunks for the export.

Rows are plain column tuples, not ORM objects: an export of a million events must not fill the session's
identity map, and nothing here ever changes an event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from portal.audit.errors import AuditFilterProblem
from portal.audit.models import AuditEvent
from portal.customers.models import Customer

PAGE_SIZE = 100
EXPORT_CHUNK = 2000


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show. Empty fields do not filter; ``since``/``until`` are UTC (until exclusive)."""

    actor_type: str | None = None
    actor: str | None = None  # part of the actor's id, any case
    action: str | None = None
    customer_ref: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def day_bounds(date_from: date | None, date_to: date | None, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """UTC bounds for whole local days: from the start of ``date_from`` to the end of ``date_to``.

    Raises ``AuditFilterProblem("date_out_of_range", dates=[...])`` naming each of ``date_from`` and
    ``date_to`` whose bound cannot be computed.
    """

    def start(day: date, days_later: int = 0) -> datetime | None:
        # A date the form accepts can still have no bound: the day after 31 December 9999 does not exist,
        # and local midnight on 1 January 0001 is still year 0 in UTC east of Greenwich.
        try:
            return datetime.combine(day + timedelta(days=days_later), time.min, tzinfo=zone).astimezone(UTC)
        except OverflowError:
            return None

    since = start(date_from) if date_from else None
    until = start(date_to, days_later=1) if date_to else None
    out_of_range = [
        name
        for name, day, bound in (("date_from", date_from, since), ("date_to", date_to, until))
        if day and bound is None
    ]
    if out_of_range:
        raise AuditFilterProblem("date_out_of_range", dates=out_of_range)
    return since, until


def _conditions(criteria: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if criteria.actor_type:
        conditions.append(AuditEvent.actor_type == criteria.actor_type)
    if criteria.actor:
        conditions.append(AuditEvent.actor_id.icontains(criteria.actor, autoescape=True))
    if criteria.action:
        conditions.append(AuditEvent.action == criteria.action)
    if criteria.customer_ref:
        # No foreign key on purpose (the trail outlives customers), so match through a subquery.
        # Typed as people type it ("c-1019" for C-1019), as the customer search takes it; still an exact number.
        typed = criteria.customer_ref.strip()
        matching = select(Customer.id).where(Customer.external_ref.in_(sorted({typed, typed.upper(), typed.lower()})))
        conditions.append(AuditEvent.customer_id.in_(matching.scalar_subquery()))
    if criteria.since:
        conditions.append(AuditEvent.occurred_at >= criteria.since)
    if criteria.until:
        conditions.append(AuditEvent.occurred_at < criteria.until)
    return conditions


def _rows(criteria: AuditFilter) -> Select[*tuple[Any, ...]]:
    return (
        select(
            AuditEvent.id,
            AuditEvent.occurred_at,
            AuditEvent.actor_type,
            AuditEvent.actor_id,
            AuditEvent.action,
            AuditEvent.customer_id,
            Customer.external_ref.label("customer_ref"),
            Customer.name.label("customer_name"),
            AuditEvent.subject_type,
            AuditEvent.subject_id,
            AuditEvent.ip_address,
            AuditEvent.user_agent,
            AuditEvent.details,
        )
        .outerjoin(Customer, Customer.id == AuditEvent.customer_id)
        .where(*_conditions(criteria))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )


def count_events(session: Session, criteria: AuditFilter, *, below_id: int | None = None) -> int:
    conditions = _conditions(criteria)
    if below_id is not None:
        conditions.append(AuditEvent.id < below_id)
    return int(session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0)


def list_events(session: Session, criteria: AuditFilter, *, page: int = 1, per_page: int = PAGE_SIZE) -> list[Row[Any]]:
    """One page of events, newest first."""
    return list(session.execute(_rows(criteria).limit(per_page).offset((max(page, 1) - 1) * per_page)))


def iter_event_chunks(
    session: Session, criteria: AuditFilter, *, below_id: int | None = None, chunk_size: int = EXPORT_CHUNK
) -> Iterator[list[Row[Any]]]:
    """All matching events, newest first, in chunks; each chunk is its own short query.

    Keyset paging on (occurred_at, id) keeps every chunk as cheap as the first, however deep the export
    goes, and lets the caller end its transaction between chunks. ``below_id`` leaves out events
    recorded after the export started (the export's own audit event among them).
    """
    statement = _rows(criteria).limit(chunk_size)
    if below_id is not None:
        statement = statement.where(AuditEvent.id < below_id)
    after: tuple[datetime, int] | None = None
    while True:
        query = statement
        if after is not None:
            occurred_at, event_id = after
            query = query.where(
                or_(
                    AuditEvent.occurred_at < occurred_at,
                    and_(AuditEvent.occurred_at == occurred_at, AuditEvent.id < event_id),
                )
            )
        chunk = list(session.execute(query))
        if not chunk:
            return
        after = (chunk[-1].occurred_at, chunk[-1].id)
        yield chunk
        if len(chunk) < chunk_size:
            return


def distinct_actions(session: Session) -> list[str]:
    """Every action name present in the trail, for the filter's list (read from the action index)."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
