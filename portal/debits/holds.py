"""Why a period's debit must not collect its invoice although it is owed: another arrangement collects it (a
payment plan's instalments). Each feature registers its own hold from its own package, as pause reasons are
registered; the collection run asks them all and skips the debit when one holds. Nothing here lists them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from portal.invoices.models import Invoice

CollectionHold = Callable[[Session, Invoice], bool]

_HOLDS: dict[str, CollectionHold] = {}


def register_collection_hold(code: str, holds: CollectionHold) -> None:
    if code in _HOLDS:
        raise RuntimeError(f"collection hold {code!r} is registered twice")
    _HOLDS[code] = holds


def collection_hold(session: Session, invoice: Invoice) -> str | None:
    """The code of the first hold on ``invoice`` (e.g. "plan"), or None when its debit may collect it."""
    return next((code for code, holds in _HOLDS.items() if holds(session, invoice)), None)
