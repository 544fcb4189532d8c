"""Columns of an import file, and reading one row's cells into checked values.

A column that is not in the file is ABSENT: an existing record keeps its value. A column that is there
but empty in a row means "no value" (or the documented default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from portal.imports.parsing import Table, parse_date, parse_moment, parse_number
from portal.imports.problems import Problem, Problems


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
# A cell quoted back in a message is cut to this length.
MAX_VALUE_SHOWN = 60


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False  # the first row must name this column
    cell_required: bool = False  # and every row must fill it in
    max_length: int | None = None


def map_header(
    table: Table, columns: list[Column], problems: Problems, other_kind: tuple[str, str]
) -> tuple[dict[str, int], list[Problem]]:
    """Where each known column is, and warnings for the unknown ones; errors for missing or doubled columns.

    ``other_kind`` is (a column only the other kind of file has, the problem code that says so).
    """
    known = {column.name for column in columns}
    index: dict[str, int] = {}
    warnings: list[Problem] = []
    for position, name in enumerate(table.header):
        if not name:
            continue
        if name in index:
            problems.add(1, name, "duplicate_column", column=name)
        elif name in known:
            index[name] = position
        else:
            warnings.append(Problem(1, name, "unknown_column", {"column": name}))
    missing = [column.name for column in columns if column.required and column.name not in index]
    if missing:
        marker, code = other_kind
        if marker in table.header:
            problems.add(1, None, code)
        problems.add(1, None, "missing_columns", columns=", ".join(missing))
    return index, warnings


def shown(value: str) -> str:
    """A cell's text as quoted back in a message: short enough to read."""
    value = value.strip()
    return value if len(value) <= MAX_VALUE_SHOWN else value[: MAX_VALUE_SHOWN - 1] + "\u2026"


class Cells:
    """One row's cells. Each reader returns the checked value, None for an empty cell, ABSENT for a column
    the file does not have; a wrong value is recorded in ``problems`` and read as None."""

    def __init__(
        self,
        row: int,
        cells: list[str],
        index: dict[str, int],
        columns: dict[str, Column],
        problems: Problems,
        width: int,
    ) -> None:
        self.row = row
        # Stripped, and padded to the header's width: a short row simply has empty cells at the end.
        self.cells = [cell.strip() for cell in cells]
        if len(self.cells) < width:
            self.cells += [""] * (width - len(self.cells))
        self.index = index
        self.columns = columns
        self.problems = problems
        self.failed = False
        # Cells beyond the header are fine when empty (Excel writes trailing separators), not when filled.
        if len(self.cells) > width and any(self.cells[width:]):
            self.error(None, "extra_cells")

    def error(self, column: str | None, code: str, **params: Any) -> None:
        self.failed = True
        self.problems.add(self.row, column, code, **params)

    def raw(self, name: str) -> str | _Absent:
        position = self.index.get(name)
        return ABSENT if position is None else self.cells[position]

    def text(self, name: str) -> str | None | _Absent:
        value = self.raw(name)
        if isinstance(value, _Absent):
            return value
        column = self.columns[name]
        if not value:
            if column.cell_required:
                self.error(name, "required")
            return None
        if column.max_length and len(value) > column.max_length:
            self.error(name, "too_long", max=column.max_length)
            return None
        return value

    def decimal(
        self, name: str, *, places: int, max_integer_digits: int, percent: bool = False
    ) -> Decimal | None | _Absent:
        value = self.text(name)
        if not isinstance(value, str):
            return value
        try:
            number, decimals = parse_number(value.removesuffix("%") if percent else value)
        except ValueError:
            self.error(name, "not_a_number", value=shown(value))
            return None
        if decimals > places:
            self.error(name, "too_many_decimals", value=shown(value), places=places)
            return None
        if abs(number) >= Decimal(10) ** max_integer_digits:
            self.error(name, "number_too_large", value=shown(value))
            return None
        return number

    def date(self, name: str) -> date | None | _Absent:
        value = self.text(name)
        if not isinstance(value, str):
            return value
        try:
            return parse_date(value)
        except ValueError:
            self.error(name, "not_a_date", value=shown(value))
            return None

    def moment(self, name: str, zone: str) -> datetime | None | _Absent:
        value = self.text(name)
        if not isinstance(value, str):
            return value
        try:
            return parse_moment(value, zone)
        except ValueError:
            self.error(name, "not_a_moment", value=shown(value))
            return None

    def choice(self, name: str, choices: frozenset[str], code: str, *, upper: bool = False) -> str | None | _Absent:
        value = self.text(name)
        if not isinstance(value, str):
            return value
        normalised = value.upper() if upper else value.lower()
        if normalised not in choices:
            self.error(name, code, value=shown(value))
            return None
        return normalised
