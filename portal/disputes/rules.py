"""The arithmetic of disputes, apart from the database: what a disputed line is worth, the deadlines, a reference."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from portal.business_calendar import add_business_days
from portal.invoices.models import InvoiceLine

# No 0/O, 1/I/L: a reference is read out on the phone and typed from a letter.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
EXPLANATION_LIMIT = 4000


def line_with_vat_cents(line: InvoiceLine) -> int:
    """A line's amount as the debtor pays it: its amount (excluding VAT) plus its VAT, rounded half up."""
    gross = Decimal(line.amount_cents) * (Decimal(100) + Decimal(line.vat_rate)) / Decimal(100)
    return int(gross.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def new_reference() -> str:
    return "D-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))


@dataclass(frozen=True)
class Deadlines:
    first_response_on: date
    resolution_on: date


def deadlines(opened_on: date, *, first_response_days: int, resolution_days: int, country: str) -> Deadlines:
    """Business days from the day the dispute was opened where the customer lives (that day does not count)."""
    first = add_business_days(opened_on, first_response_days, country)
    resolution = add_business_days(opened_on, max(resolution_days, first_response_days), country)
    return Deadlines(first, resolution)


def deadline_state(due_on: date, today: date, *, country: str) -> str:
    """ "late" once the deadline day has passed, "due_soon" on the day itself and the business day before,
    else "on_time": what the staff queue colours."""
    if today > due_on:
        return "late"
    if today == due_on or add_business_days(today, 1, country) >= due_on:
        return "due_soon"
    return "on_time"


def row_id(text: object) -> int | None:
    """An id from a form field, or None: ASCII digits only (not "²", which isdigit() calls a digit), and short
    enough to be an id (int() of thousands of digits raises)."""
    value = str(text or "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else None
