"""CSV files staff download: safe to open in a spreadsheet.

A cell that starts with =, +, -, @ (or a tab or carriage return) would run as a formula in Excel or
LibreOffice ("CSV injection"); such cells get a leading apostrophe, which spreadsheets show as text, and so
does such a character right after a separator, for spreadsheets that split cells on ; or , themselves.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Dutch Excel splits on ";" whatever the file says, so a formula may also start right after a separator.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([;,\t\r\n])(\s*)([=+\-@])")


def neutralise(value: Any) -> str:
    text = "" if value is None else str(value)
    text = _FORMULA_AFTER_SEPARATOR.sub(r"\1\2'\3", text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def rows_to_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """UTF-8 text with a header row; the caller adds a BOM if Excel must guess the encoding right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue()
