"""One strict reading of an amount a person types: text in, integer cents out, or an :class:`AmountProblem`.

Accepted, whatever the page's language (a Dutch visitor may type the English way and the other way round):

- digits only, with at most two decimals after a comma or a point: ``12``, ``12,5``, ``12,50``, ``12.50``;
- thousands separators only in the two full forms, with the decimal part in the other style:
  ``1.234,56`` and ``1,234.56`` (groups of exactly three digits);
- the currency's sign or code in front, as copied from the page: ``€ 12,50``, ``EUR 12.50``;
- spaces around the whole are ignored (pasted text), spaces inside are not.

Refused, each with its own code: only ASCII digits count (Arabic-Indic, full-width and other Unicode
digits look like numbers but are a different text to every system behind us); no signs, exponents,
NaN or Infinity; ``12,505`` or ``1.234`` is refused as too many decimals, because it means twelve
thousand to one reader and twelve euro to another. The maximum stays well inside the database's
integer columns (at most 2^31 - 1 cents), so no amount a person types can overflow a column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from babel.numbers import get_currency_symbol

from portal.errors import DomainError, Message
from portal.i18n import _, _l, format_money

# Just under ten million euro: far above any invoice a portal like this holds, and below the
# 2,147,483,647 cents an Integer column (PostgreSQL int4) can store.
MAX_CENTS = 1_000_000_000 - 1

# Plain: digits, optionally one decimal separator with one or two digits.
_PLAIN = re.compile(r"(?P<whole>[0-9]+)(?:[.,](?P<fraction>[0-9]{1,2}))?")
# Grouped: 1.234.567,89 or 1,234,567.89; the group separator differs from the decimal separator.
_GROUPED = re.compile(
    r"(?P<whole>[0-9]{1,3}(?P<group>[.,])[0-9]{3}(?:(?P=group)[0-9]{3})*)"
    r"(?!(?P=group))(?P<point>[.,])(?P<fraction>[0-9]{1,2})"
)
# Digits, one separator and three or more digits after it, possibly after groups: the decimals are the problem.
_MANY_DECIMALS = re.compile(r"[0-9]+(?:[.,][0-9]+)*[.,][0-9]{3,}")
_NUMBERISH = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
# Longer than any amount up to MAX_CENTS can be written (with separators and decimals): too large, and
# never turned into an int (a 5,000-digit string is refused by int() itself, as a crash).
_MAX_TEXT = 32


def _too_large(details: Mapping[str, Any]) -> str:
    return _("The amount is too large. Enter at most %(amount)s.", amount=format_money(MAX_CENTS, details["currency"]))


class AmountProblem(DomainError):
    """Text that is not an amount of money we accept."""

    area = "amount"
    messages: ClassVar[Mapping[str, Message]] = {
        "empty": _l("Enter an amount, for example 25.00."),
        "not_a_number": _l("Enter the amount in the digits 0 to 9, for example 25.00."),
        "too_many_decimals": _l(
            "Use at most two digits after the decimal point, for example 12.50. For a thousand or more, leave out "
            "the comma: 1250.00."
        ),
        "too_large": _too_large,
        "not_positive": _l("Enter an amount above zero, for example 25.00."),
    }


def _without_currency(text: str, currency: str) -> str:
    for prefix in (currency.upper(), get_currency_symbol(currency.upper(), locale="nl"), "€"):
        if text.upper().startswith(prefix.upper()):
            return text[len(prefix) :].lstrip(" \u00a0")
    return text


def parse_amount(text: str | None, currency: str = "EUR") -> int:
    """Cents from an amount as a person types it (see the module's docstring for the accepted forms).

    Raises :class:`AmountProblem` with code ``empty``, ``not_a_number``, ``too_many_decimals``,
    ``too_large`` or ``not_positive``.
    """
    stripped = (text or "").strip()
    if not stripped:
        raise AmountProblem("empty", currency=currency)
    stripped = _without_currency(stripped, currency)
    if stripped.startswith("-") and _NUMBERISH.fullmatch(stripped[1:]):
        raise AmountProblem("not_positive", currency=currency)
    match = _PLAIN.fullmatch(stripped) or _GROUPED.fullmatch(stripped)
    if match is None:
        if _MANY_DECIMALS.fullmatch(stripped) and len(stripped) <= _MAX_TEXT:
            raise AmountProblem("too_many_decimals", currency=currency)
        if _NUMBERISH.fullmatch(stripped) and len(stripped) > _MAX_TEXT:
            raise AmountProblem("too_large", currency=currency)
        raise AmountProblem("not_a_number", currency=currency)
    whole = re.sub(r"[.,]", "", match.group("whole")).lstrip("0")
    if len(whole) > len(str(MAX_CENTS // 100)):
        raise AmountProblem("too_large", currency=currency)
    cents = int(whole or "0") * 100 + int((match.group("fraction") or "").ljust(2, "0"))
    if cents > MAX_CENTS:
        raise AmountProblem("too_large", currency=currency)
    if cents <= 0:
        raise AmountProblem("not_positive", currency=currency)
    return cents


def decimal_text(cents: int) -> str:
    """1234 -> "12.34": how amounts are written in JSON and on the command line, never through a float."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
