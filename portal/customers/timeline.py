"""A customer's whole story as one timeline, newest first: the domain events and their presenters.

Each feature declares how its events read (its own ``events.py``), so adding a kind of event touches only
its feature. Events folded under another (the pages seen in a visit) appear as lines under that entry.
Call it from a request: titles are translated as they are read, in the reader's language.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.customers.models import Customer
from portal.events.models import DomainEvent
from portal.events.presenting import actor_label
from portal.events.registry import find_kind, fold_parents, folded_kinds, kinds_in

TIMELINE_LIMIT = 200


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime  # timezone-aware
    kind: str  # the category: invoice, payment, link, visit, note, message ...: for the eye, CSS and the filter
    title: str
    detail: str = ""
    actor: str = ""
    all_day: bool = False  # only the date is known (an invoice's issue date)
    # Lines shown under the entry (the pages seen in a visit), each once, with how often it was seen.
    folded: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]
    has_more: bool  # older entries exist beyond the ones shown


def build_timeline(
    session: Session, customer: Customer, *, limit: int = TIMELINE_LIMIT, category: str | None = None
) -> Timeline:
    """The newest ``limit`` entries of the customer's story, newest first; only ``category`` when given."""
    query = select(DomainEvent).where(DomainEvent.customer_id == customer.id, DomainEvent.kind.not_in(folded_kinds()))
    if category:
        query = query.where(DomainEvent.kind.in_(kinds_in(category)))
    events = list(
        session.scalars(query.order_by(DomainEvent.occurred_at.desc(), DomainEvent.id.desc()).limit(limit + 1))
    )
    shown = events[:limit]
    folded = _folded_under(session, customer, shown)
    extras = _prefetch(session, [*shown, *(child for children in folded.values() for child in children)])
    entries = []
    for event in shown:
        entry = _entry(event, extras)
        if entry is None:
            continue
        children = [_entry(child, extras) for child in folded.get((event.subject_type, event.subject_id), [])]
        # A reload or a language switch shows the same page again: one line, with a count, in first-seen order.
        seen = Counter(child.title for child in children if child is not None)
        entry.folded.extend(seen.items())
        entries.append(entry)
    return Timeline(entries=entries, has_more=len(events) > limit)


def _entry(event: DomainEvent, extras: dict[str, Any]) -> TimelineEntry | None:
    kind = find_kind(event.kind)
    if kind is None:  # a kind whose feature is gone: the row stays, the page does not fail
        return None
    shown = kind.present(event, extras.get(kind.name))
    return TimelineEntry(
        when=event.occurred_at,
        kind=kind.category,
        title=shown.title,
        detail=shown.detail,
        actor=shown.actor or actor_label(event),
        all_day=shown.all_day,
    )


def _folded_under(
    session: Session, customer: Customer, parents: Sequence[DomainEvent]
) -> dict[tuple[str | None, str | None], list[DomainEvent]]:
    with_children = fold_parents()
    subjects = {event.subject_id for event in parents if event.subject_id and event.kind in with_children}
    if not subjects:
        return {}
    children = session.scalars(
        select(DomainEvent)
        .where(
            DomainEvent.customer_id == customer.id,
            DomainEvent.kind.in_(folded_kinds()),
            DomainEvent.subject_id.in_(subjects),
        )
        .order_by(DomainEvent.occurred_at, DomainEvent.id)
    )
    grouped: dict[tuple[str | None, str | None], list[DomainEvent]] = defaultdict(list)
    for child in children:
        grouped[(child.subject_type, child.subject_id)].append(child)
    return grouped


def _prefetch(session: Session, events: Sequence[DomainEvent]) -> dict[str, Any]:
    """One query per kind that needs more than its events (a note's text, a message's state)."""
    by_kind: dict[str, list[DomainEvent]] = defaultdict(list)
    for event in events:
        by_kind[event.kind].append(event)
    extras = {}
    for name, of_kind in by_kind.items():
        kind = find_kind(name)
        if kind is not None and kind.prefetch is not None:
            extras[name] = kind.prefetch(session, of_kind)
    return extras
