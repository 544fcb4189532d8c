"""Event kinds: each feature declares its own, in its own package, and registers them at import time.

A kind says how an event reads on the timeline (rendered when read, in the reader's language), whether
it is public (the API feed and outgoing webhooks read only public events), which timeline filter it
belongs to, and what reacts to it in the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from portal.events.models import DomainEvent


@dataclass(frozen=True)
class Presentation:
    """An event as a reader sees it: a title and a line of detail, already in the reader's language."""

    title: str
    detail: str = ""
    all_day: bool = False  # only the date is known (an invoice's issue date)
    actor: str = ""  # who, in words, when the presenter knows better than the event's actor id (a name)


Presenter = Callable[["DomainEvent", Any], Presentation]
Prefetch = Callable[["Session", Sequence["DomainEvent"]], Any]
Reaction = Callable[["Session", "DomainEvent"], None]


@dataclass
class EventKind:
    name: str  # "payment.paid": the feature, a dot, what happened
    category: str  # the timeline filter it shows under: payment, invoice, link, visit, note, message ...
    present: Presenter
    public: bool = False
    schema_version: int = 1
    # Loads what the presenters of a page of events need in one query (e.g. a message's current state);
    # its result is the presenter's second argument.
    prefetch: Prefetch | None = None
    reactions: list[Reaction] = field(default_factory=list)
    # Shown not on its own but folded under the event of this kind with the same subject (pages seen in
    # a visit), so a busy visit is one line on the timeline.
    folded_under: str | None = None


_KINDS: dict[str, EventKind] = {}
_CATEGORY_LABELS: dict[str, Any] = {}
_PUBLIC_REACTIONS: list[Reaction] = []


def register(kind: EventKind) -> EventKind:
    if kind.name in _KINDS and _KINDS[kind.name] is not kind:
        raise RuntimeError(f"event kind {kind.name!r} is declared twice")
    _KINDS[kind.name] = kind
    return kind


def react_to(name: str, reaction: Reaction) -> None:
    """Run ``reaction(session, event)`` in the emitting transaction whenever an event of kind ``name`` is emitted."""
    kind_named(name).reactions.append(reaction)


def react_to_public_events(reaction: Reaction) -> None:
    """For features that read every public event as it happens (outgoing webhooks)."""
    _PUBLIC_REACTIONS.append(reaction)


def kind_named(name: str) -> EventKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"unknown event kind {name!r}: declare it in its feature's events module") from None


def find_kind(name: str) -> EventKind | None:
    return _KINDS.get(name)


def reactions_for(kind: EventKind) -> list[Reaction]:
    return [*kind.reactions, *(_PUBLIC_REACTIONS if kind.public else ())]


def name_category(category: str, label: Any) -> None:
    """The words for a timeline filter (a lazily translated string), declared by the feature that owns it."""
    _CATEGORY_LABELS[category] = label


def categories() -> list[tuple[str, str]]:
    """Every timeline filter some registered kind belongs to, as (category, label in the reader's language)."""
    names = {kind.category for kind in _KINDS.values()}
    return sorted(((name, str(_CATEGORY_LABELS.get(name, name))) for name in names), key=lambda pair: pair[1])


def folded_kinds() -> list[str]:
    return sorted(name for name, kind in _KINDS.items() if kind.folded_under)


def fold_parents() -> set[str]:
    """The kinds that other kinds fold under."""
    return {kind.folded_under for kind in _KINDS.values() if kind.folded_under}


def kinds_in(category: str) -> list[str]:
    return sorted(name for name, kind in _KINDS.items() if kind.category == category)
