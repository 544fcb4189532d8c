"""The invoices file: one row per invoice LINE; the invoice columns repeat on every line of an invoice.

Rows are checked on their own, then grouped by ``invoice_number`` into invoices whose totals are computed
the way the billing system does: each line rounded half up to the cent, VAT per rate on that rate's base,
the total is subtotal plus VAT. Decimal throughout, never float.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from operator import itemgetter
from typing import Any, NamedTuple

from babel.numbers import list_currencies

from portal.imports.columns import ABSENT, Cells, Column, map_header, shown
from portal.imports.parsing import Table, round_cents, to_cents
from portal.imports.problems import Problem, Problems
from portal.imports.tally import PROGRESS_EVERY
from portal.invoices.numbers import MAX_LENGTH as NUMBER_MAX_LENGTH
from portal.invoices.numbers import number_problem

COLUMNS = [
    Column("customer_ref", required=True, cell_required=True, max_length=64),
    Column("invoice_number", required=True, cell_required=True, max_length=NUMBER_MAX_LENGTH),
    Column("external_ref", max_length=64),
    Column("category", max_length=40),
    Column("issue_date", required=True, cell_required=True),
    Column("due_date", required=True, cell_required=True),
    Column("period_start"),
    Column("period_end"),
    Column("currency", max_length=3),
    Column("state"),
    Column("paid_at"),
    Column("description", required=True, cell_required=True, max_length=300),
    Column("quantity", required=True, cell_required=True),
    Column("unit", required=True, max_length=20),
    Column("unit_price", required=True, cell_required=True),
    Column("vat_rate", required=True, cell_required=True),
    Column("amount"),
]
BY_NAME = {column.name: column for column in COLUMNS}
# The invoice's own columns: the same on every line of one invoice.
HEAD = (
    "customer_ref",
    "external_ref",
    "category",
    "issue_date",
    "due_date",
    "period_start",
    "period_end",
    "currency",
    "state",
    "paid_at",
)
DATES = frozenset({"issue_date", "due_date", "period_start", "period_end"})
STATES = frozenset({"open", "paid", "cancelled"})
DEFAULT_CATEGORY, DEFAULT_CURRENCY = "general", "EUR"
# amount_cents and the totals are 32-bit integers in the database; stay well inside.
MAX_CENTS = 1_000_000_000


@cache
def currencies() -> frozenset[str]:
    return frozenset(list_currencies())


class Line(NamedTuple):
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    amount_cents: int


@dataclass
class InvoiceDraft:
    number: str
    row: int  # the invoice's first row
    raw: tuple[str, ...]  # its invoice columns as written, to spot a line that differs cheaply
    parsed: dict[str, Any]
    lines: list[Line] = field(default_factory=list)
    failed: bool = False
    values: dict[str, Any] = field(default_factory=dict)  # Invoice columns to write (those the file has)
    vat_totals: list[tuple[Decimal, int, int]] = field(default_factory=list)  # rate, base, VAT in cents

    @property
    def customer_ref(self) -> str:
        return str(self.parsed["customer_ref"])


def read_invoices(
    table: Table, problems: Problems, *, zone: str, on_row: Callable[[int], None] | None = None
) -> tuple[list[InvoiceDraft], int, list[Problem]]:
    """The invoices without errors, the number of lines read, and warnings; every error goes to ``problems``."""
    index, warnings = map_header(table, COLUMNS, problems, ("name", "looks_like_customers"))
    if problems:
        return [], 0, warnings
    width = len(table.header)
    head_names = [name for name in HEAD if name in index]
    head_of = itemgetter(*(index[name] for name in head_names))  # at least three: customer_ref and the dates
    drafts: dict[str, InvoiceDraft] = {}
    for count, (row, raw) in enumerate(table.rows, start=1):
        if on_row and count % PROGRESS_EVERY == 0:
            on_row(count)
        cells = Cells(row, raw, index, BY_NAME, problems, width)
        number = _invoice_number(cells)
        head_raw = head_of(cells.cells)
        draft = drafts.get(number) if isinstance(number, str) else None
        if isinstance(number, str) and draft is None:
            draft = drafts[number] = InvoiceDraft(number, row, head_raw, _head(cells, zone))
        elif draft is not None and head_raw != draft.raw:
            _compare_head(cells, draft, head_names, head_raw, zone)
        line = _line(cells, _currency(draft.parsed) if draft else DEFAULT_CURRENCY)
        if draft is not None:
            draft.failed = draft.failed or cells.failed
            if line is not None:
                draft.lines.append(line)
    complete = [draft for draft in drafts.values() if not draft.failed]
    for draft in complete:
        _finish(draft, problems)
    _check_external_refs(complete, problems)
    return [draft for draft in complete if not draft.failed], len(table.rows), warnings


def _invoice_number(cells: Cells) -> str | None:
    """The row's invoice number; None for none, and for one that could not open its own page (a row error)."""
    number = cells.text("invoice_number")
    if not isinstance(number, str):
        return None
    if problem := number_problem(number):
        cells.error("invoice_number", problem, value=shown(number))
        return None
    return number


def _head_value(cells: Cells, name: str, zone: str) -> Any:
    if name in DATES:
        return cells.date(name)
    if name == "currency":
        return cells.choice(name, currencies(), "unknown_currency", upper=True)
    if name == "state":
        return cells.choice(name, STATES, "unknown_state")
    if name == "paid_at":
        return cells.moment(name, zone)
    return cells.text(name)


def _head(cells: Cells, zone: str) -> dict[str, Any]:
    """The invoice columns of an invoice's first row, checked once for the whole invoice."""
    parsed = {name: _head_value(cells, name, zone) for name in HEAD}
    value = {name: (None if item is ABSENT else item) for name, item in parsed.items()}
    issue, due, start, end = value["issue_date"], value["due_date"], value["period_start"], value["period_end"]
    if isinstance(issue, date) and isinstance(due, date) and due < issue:
        cells.error("due_date", "due_before_issue")
    if (start is None) != (end is None) and not cells.failed:
        cells.error("period_end" if end is None else "period_start", "period_incomplete")
    elif isinstance(start, date) and isinstance(end, date) and end < start:
        cells.error("period_end", "period_order")
    state, paid_at = value["state"], value["paid_at"]
    if state == "paid" and paid_at is None and cells.raw("paid_at") in ("", ABSENT):
        cells.error("paid_at", "paid_at_required")
    elif state != "paid" and paid_at is not None:
        cells.error("paid_at", "paid_at_not_paid")
    return parsed


def _compare_head(cells: Cells, draft: InvoiceDraft, names: list[str], head_raw: tuple[str, ...], zone: str) -> None:
    """A later line of the same invoice: each invoice column must mean the same as on the first line."""
    for name, new, old in zip(names, head_raw, draft.raw, strict=True):
        if new != old and _head_value(cells, name, zone) != draft.parsed[name] and not cells.failed:
            cells.error(name, "invoice_differs", number=shown(draft.number), other_row=draft.row)


def _currency(parsed: dict[str, Any]) -> str:
    currency = parsed["currency"]
    return currency if isinstance(currency, str) else DEFAULT_CURRENCY


def _line(cells: Cells, currency: str) -> Line | None:
    description = cells.text("description")
    quantity = cells.decimal("quantity", places=3, max_integer_digits=9)
    unit = cells.text("unit")
    unit_price = cells.decimal("unit_price", places=5, max_integer_digits=9)
    vat_rate = cells.decimal("vat_rate", places=2, max_integer_digits=3, percent=True)
    amount = cells.decimal("amount", places=2, max_integer_digits=10)
    if isinstance(quantity, Decimal) and quantity < 0:
        cells.error("quantity", "negative_quantity")
    if isinstance(vat_rate, Decimal) and not 0 <= vat_rate < 100:
        cells.error("vat_rate", "vat_rate_range", value=shown(str(cells.raw("vat_rate"))))
    if cells.failed or not isinstance(quantity, Decimal) or not isinstance(unit_price, Decimal):
        return None
    cents = round_cents(quantity * unit_price * 100)
    if abs(cents) > MAX_CENTS:
        cells.error("unit_price", "amount_too_large")
        return None
    if isinstance(amount, Decimal) and to_cents(amount) != cents:
        cells.error("amount", "amount_mismatch", amount_cents=to_cents(amount), expected_cents=cents, currency=currency)
        return None
    assert isinstance(description, str) and isinstance(vat_rate, Decimal)  # noqa: S101 - cells.failed says so
    return Line(description, quantity, unit if isinstance(unit, str) else "", unit_price, vat_rate, cents)


def _finish(draft: InvoiceDraft, problems: Problems) -> None:
    """Totals and the values to write. A negative total is an error: credit notes come later."""
    bases: dict[Decimal, int] = {}
    for line in draft.lines:
        bases[line.vat_rate] = bases.get(line.vat_rate, 0) + line.amount_cents
    draft.vat_totals = [(rate, base, round_cents(Decimal(base) * rate / 100)) for rate, base in sorted(bases.items())]
    subtotal = sum(line.amount_cents for line in draft.lines)
    vat = sum(total[2] for total in draft.vat_totals)
    parsed = draft.parsed
    currency = _currency(parsed)
    if subtotal + vat < 0:
        problems.add(
            draft.row, None, "negative_total", number=draft.number, total_cents=subtotal + vat, currency=currency
        )
        draft.failed = True
    elif subtotal + vat > MAX_CENTS:
        problems.add(draft.row, None, "amount_too_large")
        draft.failed = True
    values: dict[str, Any] = {
        "issue_date": parsed["issue_date"],
        "due_date": parsed["due_date"],
        "subtotal_cents": subtotal,
        "vat_cents": vat,
        "total_cents": subtotal + vat,
    }
    defaults = {"external_ref": None, "category": DEFAULT_CATEGORY, "currency": DEFAULT_CURRENCY}
    for name in ("external_ref", "category", "currency", "period_start", "period_end"):
        if parsed[name] is not ABSENT:
            values[name] = parsed[name] or defaults.get(name)
    # An empty state keeps what the portal knows (an invoice paid through the portal stays paid).
    if isinstance(parsed["state"], str):
        values["state"] = parsed["state"]
        values["paid_at"] = parsed["paid_at"] if parsed["state"] == "paid" else None
    draft.values = values


def _check_external_refs(drafts: list[InvoiceDraft], problems: Problems) -> None:
    owners: dict[str, str] = {}
    for draft in drafts:
        reference = draft.values.get("external_ref")
        if not reference:
            continue
        if reference in owners:
            problems.add(
                draft.row, "external_ref", "duplicate_external_ref", value=shown(reference), other=owners[reference]
            )
            draft.failed = True
        else:
            owners[reference] = draft.number
