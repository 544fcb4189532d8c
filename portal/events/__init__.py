"""Domain events: the one record of what happened. See registry.py for declaring a kind, services.py for emit()."""

from portal.events.registry import EventKind, Presentation, register
from portal.events.services import Event, emit, emit_many

__all__ = ["Event", "EventKind", "Presentation", "emit", "emit_many", "register"]
