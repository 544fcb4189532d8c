"""Reading a CSV file the way spreadsheets write them: encoding, separator, header, numbers and dates.

Dutch Excel saves "CSV" as Windows-1252 with semicolons and decimal commas; other tools write UTF-8 with
commas and decimal points. Both are accepted; anything that cannot be read with certainty is an error,
never a guess that silently changes an amount.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from portal.errors import DomainError
from portal.imports.problems import Problem

ONE = Decimal("1")
UTF8_BOM = codecs.BOM_UTF8
# Zip (xlsx, ods) and the old OLE2 container (xls): a workbook, not a CSV file.
WORKBOOK_STARTS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
DELIMITERS = (";", ",", "\t")


class FileProblem(DomainError):
    """The file as a whole cannot be read; nothing in it is looked at further.

    Its words come from the import's own list of problems (imports/problems.py), which also words the
    problems of single rows, so the page shows one list whichever kind it is.
    """

    area = "import"

    def __init__(self, code: str, row: int | None = None, **params: object) -> None:
        super().__init__(code, row=row, **params)
        self.problem = Problem(row, None, code, {"row": row, **params} if row else params)


@dataclass
class Table:
    encoding: str
    encoding_fallback: bool  # True when the file was not UTF-8 and was read as Windows-1252 or Latin-1
    delimiter: str
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, cells); the header is row 1


def decode(content: bytes) -> tuple[str, str, bool]:
    """Text, the name of the encoding used, and whether that was a fallback from UTF-8."""
    if content.startswith(WORKBOOK_STARTS):
        raise FileProblem("excel_workbook")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export: UTF-16 with a byte order mark (and tabs).
        return content.decode("utf-16"), "UTF-16", False
    try:
        text = content.decode("utf-8-sig")
        encoding, fallback = ("UTF-8 with BOM" if content.startswith(UTF8_BOM) else "UTF-8"), False
    except UnicodeDecodeError:
        fallback = True
        try:
            text, encoding = content.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:  # five bytes have no cp1252 meaning; Latin-1 reads every byte
            text, encoding = content.decode("latin-1"), "ISO-8859-1"
    if "\x00" in text:
        raise FileProblem("binary")
    return text, encoding, fallback


def sniff_delimiter(text: str) -> str:
    """The separator that occurs most often in the header row (outside quotes); a comma if none does."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", first)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def normalise_column(name: str) -> str:
    """``Postal code`` and `` postal-code`` both mean ``postal_code``."""
    return re.sub(r"[\s\-]+", "_", name.replace("\ufeff", "").strip().lower())


def read_table(content: bytes) -> Table:
    """Decode and split the file into a header and the non-empty rows, numbered as in the spreadsheet."""
    if not content.strip():
        raise FileProblem("empty_file")
    text, encoding, fallback = decode(content)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):  # noqa: B007 - the number is used after the loop
            if header is None:
                header = [normalise_column(cell) for cell in cells]
            elif any(cell.strip() for cell in cells):
                rows.append((number, cells))
    except csv.Error as error:
        raise FileProblem("csv_error", row=number + 1) from error
    if header is None or not any(header):
        raise FileProblem("empty_file")
    if not rows:
        raise FileProblem("no_rows")
    return Table(encoding, fallback, delimiter, header, rows)


_PLAIN = re.compile(r"[+-]?\d*[.,]?\d+")
_DUTCH_GROUPED = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_ENGLISH_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def parse_decimal(text: str) -> Decimal:
    """``12,5``, ``0,27350``, ``1.234,56``, ``1234.56`` and ``1,234.56``; a lone separator is the decimal one.

    Raises ValueError for anything else (currency signs, letters, two decimal separators).
    """
    value = text.strip().replace("\u00a0", "").replace(" ", "").replace("\u2212", "-")
    if _PLAIN.fullmatch(value):
        value = value.replace(",", ".")
    elif _DUTCH_GROUPED.fullmatch(value):
        value = value.replace(".", "").replace(",", ".")
    elif _ENGLISH_GROUPED.fullmatch(value):
        value = value.replace(",", "")
    else:
        raise ValueError(text)
    try:
        return Decimal(value)
    except InvalidOperation as error:  # pragma: no cover - the patterns only let digits through
        raise ValueError(text) from error


def decimal_places(value: Decimal) -> int:
    """Significant decimals: ``0,27350`` has 4, ``100`` has 0."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@lru_cache(maxsize=65536)
def parse_number(text: str) -> tuple[Decimal, int]:
    """``parse_decimal`` and the number's significant decimals, cached: files repeat prices and rates."""
    value = parse_decimal(text)
    return value, decimal_places(value)


def to_cents(amount: Decimal) -> int:
    """An amount in currency units to integer cents, half up (away from zero), as billing systems round."""
    return int((amount * 100).quantize(ONE, rounding=ROUND_HALF_UP))


def round_cents(cents: Decimal) -> int:
    return int(cents.quantize(ONE, rounding=ROUND_HALF_UP))


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY_DATE = re.compile(r"(\d{1,2})([-/])(\d{1,2})\2(\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


@lru_cache(maxsize=16384)
def parse_date(text: str) -> date:
    """YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY (Dutch Excel also drops leading zeros: 1-10-2026)."""
    value = text.strip()
    if match := _ISO_DATE.fullmatch(value):
        year, month, day = match.group(1), match.group(2), match.group(3)
    elif match := _DMY_DATE.fullmatch(value):
        day, month, year = match.group(1), match.group(3), match.group(4)
    else:
        raise ValueError(text)
    return date(int(year), int(month), int(day))  # ValueError for 31-02-2026


def parse_moment(text: str, zone: str) -> datetime:
    """A date, or a date and time, in UTC. Without a UTC offset the time is local to ``zone``.

    A date alone means noon that day, so the calendar day is the same in UTC and in every European zone.
    """
    value = text.strip()
    date_part, _, time_part = value.replace("T", " ", 1).partition(" ")
    if not time_part:
        return datetime.combine(parse_date(date_part), time(12, 0), ZoneInfo(zone)).astimezone(UTC)
    if _ISO_DATE.fullmatch(date_part):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    elif match := _TIME.fullmatch(time_part.strip()):
        hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
        moment = datetime.combine(parse_date(date_part), time(hour, minute, second))
    else:
        raise ValueError(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)
