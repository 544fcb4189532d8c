"""``features_present(session, customer_id, now=...)``: which of the features most debtors never use this
debtor has something of, asked in one statement.

The overview has a place for disputes, plans and promises, direct debit, refunds and chargebacks, and credit;
most debtors have none of them. Each feature asked on its own cost a statement each, five of the overview's
nine, and a statement costs SQLAlchemy about ten times what it costs SQLite. So each feature registers an
EXISTS from its own package, the overview asks them all at once, and hands each feature its answer: a
feature's own read runs only for the debtors who have something of it to show. Nothing here lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

# The values of an EXISTS's own bound parameters at a moment ("resolved since", say); ``customer_id`` is
# always given.
PresenceParams = Callable[[datetime], Mapping[str, Any]]


@dataclass(frozen=True)
class PresenceCheck:
    name: str
    condition: ColumnElement[bool]  # an EXISTS, or some, over bindparam("customer_id") and those ``params`` gives
    params: PresenceParams | None = None


_CHECKS: dict[str, PresenceCheck] = {}
# The statement asking every registered check, built once for the checks registered when it was first asked.
_built: tuple[tuple[str, ...], Select[*tuple[Any, ...]]] | None = None


def register_presence_check(
    name: str, condition: ColumnElement[bool], *, params: PresenceParams | None = None
) -> PresenceCheck:
    global _built
    if name in _CHECKS:
        raise RuntimeError(f"presence check {name!r} is registered twice")
    check = _CHECKS[name] = PresenceCheck(name, condition, params)
    _built = None
    return check


def unregister_presence_check(name: str) -> None:
    """For tests that add a check of their own."""
    global _built
    _CHECKS.pop(name, None)
    _built = None


def features_present(session: Session, customer_id: int, *, now: datetime) -> dict[str, bool]:
    """{check name: whether the customer has something of it}. A feature not registered is not in it: its
    reader then asks for itself (``.get(name)`` gives None), so a missing registration hides nothing."""
    names, statement = _statement()
    if not names:
        return {}
    params: dict[str, Any] = {"customer_id": customer_id}
    for name in names:
        given = _CHECKS[name].params
        if given is not None:
            params.update(given(now))
    # On the connection: this reads only what is committed or flushed, and skips the ORM's execution path,
    # which for one row of booleans costs as much as the statement.
    row = session.connection().execute(statement, params).one()
    return {name: bool(value) for name, value in zip(names, row, strict=True)}


def _statement() -> tuple[tuple[str, ...], Select[*tuple[Any, ...]]]:
    global _built
    built = _built
    if built is None:
        names = tuple(_CHECKS)
        statement: Select[*tuple[Any, ...]] = select(*(_CHECKS[name].condition.label(name) for name in names))
        built = _built = names, statement
    return built
