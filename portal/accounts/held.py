"""``held_cents(session, invoice_ids)``: the part of each invoice that is owed but not asked for now.

A disputed line is still owed until the dispute ends, but the debtor is not asked to pay it: the pay page
offers the rest, a payment is spread over the rest, and the overview says which part is on hold. Each
feature that can hold part of an invoice registers how much, from its own package, as pause reasons are
registered. Nothing here lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlalchemy.orm import Session

from portal.invoices.models import Invoice

HeldAmounts = Callable[[Session, Collection[int]], dict[int, int]]

_SOURCES: dict[str, HeldAmounts] = {}


def register_held_amount(code: str, held: HeldAmounts) -> None:
    if code in _SOURCES:
        raise RuntimeError(f"held amount {code!r} is registered twice")
    _SOURCES[code] = held


def held_cents(session: Session, invoice_ids: Collection[int]) -> dict[int, int]:
    """Cents on hold per invoice id (only invoices with something on hold): one query per registered source."""
    held: dict[int, int] = {}
    if not invoice_ids:
        return held
    for source in _SOURCES.values():
        for invoice_id, cents in source(session, invoice_ids).items():
            if cents > 0:
                held[invoice_id] = held.get(invoice_id, 0) + cents
    return held


def payable_cents(invoice: Invoice, held: dict[int, int]) -> int:
    """What may be asked for on ``invoice`` now: what is owed less what is on hold (never below 0)."""
    return max(invoice.outstanding_cents - held.get(invoice.id, 0), 0)
