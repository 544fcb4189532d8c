"""How input becomes a stored value: the validators the registry names, and the one error they raise.

A validator takes what a person typed (a form field, or a CLI argument, JSON for structured values) and
returns the value to store, or raises SettingProblem. Validators accept their own output unchanged, so a
stored value can be sent through them again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any, ClassVar

from babel.numbers import list_currencies
from email_validator import EmailNotValidError, validate_email
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from portal.errors import DomainError, Message, message_for
from portal.i18n import _l, format_money
from portal.money import AmountProblem, parse_amount
from portal.providers.base import METHODS

PROBLEM_MESSAGES: dict[str, Message] = {
    "required": _l("Please fill this in."),
    "too_long": _l("Please keep this to at most %(max)s characters."),
    "invalid_iban": _l("This is not a valid IBAN. Check the letters and digits, for example NL91 ABNA 0417 1643 00."),
    "invalid_bic": _l("This is not a valid BIC. A BIC has 8 or 11 letters and digits, such as ABNANL2A."),
    "invalid_creditor_identifier": _l(
        "This is not a valid SEPA creditor identifier. It looks like NL57ZZZ999999999999; check the digits."
    ),
    "invalid_email": _l("Please enter a valid e-mail address, such as name@example.com."),
    "invalid_phone": _l("Please enter a phone number with at least 6 digits, such as +31 20 123 4567."),
    "invalid_vat_number": _l(
        "This is not a VAT number. It starts with two letters for the country, such as NL999999999B01."
    ),
    "amount_out_of_range": _l("Enter an amount from %(minimum)s to %(maximum)s."),
    "invalid_required_amount": _l("Enter an amount such as 25.00."),
    "invalid_amount": _l("Enter an amount such as 10.00 (at least 0.01), or leave the field empty."),
    "unknown_currency": _l("Unknown currency \u201c%(value)s\u201d. Use a three-letter code such as EUR."),
    "invalid_contact_window": _l(
        "\u201c%(value)s\u201d is not a time window. Enter a start and an end time, such as 08:00-21:00, or leave "
        "the field empty for no contact on that day."
    ),
    "no_contact_at_all": _l("Give contact hours for at least one day, or reminders can never go out."),
    "contact_window_order": _l(
        "The start time must come before the end time, such as 08:00-21:00. A window cannot run past midnight."
    ),
    "not_a_choice": _l("Choose one of the options."),
    "not_a_whole_number": _l("Enter a whole number from %(minimum)s to %(maximum)s."),
    "invalid_days": _l(
        "Enter days of the month from 1 to 31, separated by commas or as a range, such as 1-28 or 1, 15, 25."
    ),
    # i18n: only seen when a value is set from the command line
    "invalid_structure": _l("This value does not have the expected form, such as %(example)s."),
}


class SettingProblem(DomainError):
    """Input a setting does not accept. ``message`` says what to do, in the reader's language."""

    area = "setting"
    messages: ClassVar[Mapping[str, Message]] = PROBLEM_MESSAGES

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code, **details)
        self.key: str | None = None  # filled in by Setting.parse

    @property
    def message(self) -> str:
        return message_for(self)


def _text(raw: Any, *, max_length: int, required: bool = True, multiline: bool = False) -> str:
    if not isinstance(raw, str):
        raw = "" if raw is None else str(raw)
    if multiline:
        text = "\n".join(line.strip() for line in raw.splitlines() if line.strip())
    else:
        text = " ".join(raw.split())
    if required and not text:
        raise SettingProblem("required")
    if len(text) > max_length:
        raise SettingProblem("too_long", max=max_length)
    return text


def text_validator(max_length: int, *, required: bool = True, multiline: bool = False) -> Callable[[Any], str]:
    return lambda raw: _text(raw, max_length=max_length, required=required, multiline=multiline)


def parse_iban(raw: Any) -> str:
    try:
        return IBAN(_text(raw, max_length=42)).compact
    except SchwiftyException:
        raise SettingProblem("invalid_iban") from None


def parse_bic(raw: Any) -> str:
    try:
        return str(BIC(_text(raw, max_length=14).upper()))
    except SchwiftyException:
        raise SettingProblem("invalid_bic") from None


def _mod97(text: str) -> int:
    return int("".join(str(int(char, 36)) for char in text)) % 97


def parse_creditor_identifier(raw: Any) -> str:
    """SEPA creditor identifier (EPC262): country, check digits, business code, national id; empty if none.

    The check digits cover the country and the national id, not the business code (positions 5-7).
    """
    text = _text(raw, max_length=40, required=False).replace(" ", "").upper()
    if not text:
        return ""
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{3}[A-Z0-9]{1,28}", text) or _mod97(text[7:] + text[:4]) != 1:
        raise SettingProblem("invalid_creditor_identifier")
    return text


def parse_email(raw: Any) -> str:
    try:
        return validate_email(_text(raw, max_length=254), check_deliverability=False).normalized
    except EmailNotValidError:
        raise SettingProblem("invalid_email") from None


def parse_phone(raw: Any) -> str:
    text = _text(raw, max_length=30)
    if not re.fullmatch(r"\+?[\d\s().-]+", text) or sum(char.isdigit() for char in text) < 6:
        raise SettingProblem("invalid_phone")
    return text


def parse_vat_number(raw: Any) -> str:
    text = re.sub(r"[\s.]", "", _text(raw, max_length=20, required=False)).upper()
    if text and not re.fullmatch(r"[A-Z]{2}[A-Z0-9]{2,13}", text):
        raise SettingProblem("invalid_vat_number")
    return text


@cache
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def parse_minimum_cents(amount: Any, currency: str = "EUR") -> int | None:
    """An amount in currency units (text as typed, or a Decimal) to cents; empty means "no part-payments".

    Typed text is read by the one strict amount parser (:func:`portal.money.parse_amount`), as on the pay page.
    """
    if amount is None or (isinstance(amount, str) and not amount.strip()):
        return None
    if isinstance(amount, Decimal) and amount.is_finite():
        text = format(amount, "f")
    elif isinstance(amount, str):
        text = amount
    else:
        raise SettingProblem("invalid_amount")
    try:
        return parse_amount(text, currency)
    except AmountProblem:
        raise SettingProblem("invalid_amount") from None


def amount_cents(minimum_cents: int, maximum_cents: int) -> Callable[[Any], int]:
    """A validator for an amount in euro, typed ("25,00") or stored (an int of cents), within the bounds."""

    def parse(raw: Any) -> int:
        try:
            cents = raw if isinstance(raw, int) and not isinstance(raw, bool) else parse_minimum_cents(raw)
        except SettingProblem:
            raise SettingProblem("invalid_required_amount") from None
        if cents is None:
            raise SettingProblem("required")
        if not minimum_cents <= cents <= maximum_cents:
            raise SettingProblem(
                "amount_out_of_range", minimum=format_money(minimum_cents), maximum=format_money(maximum_cents)
            )
        return cents

    return parse


def minimum_per_currency(raw: Any) -> dict[str, int | None]:
    """{"EUR": "10,00"} as typed, or {"EUR": 1000} as stored (ints are cents, only ever from storage)."""
    if not isinstance(raw, Mapping):
        raise SettingProblem("invalid_structure")
    parsed: dict[str, int | None] = {}
    for currency, amount in raw.items():
        code = str(currency).strip().upper()
        if code not in _currencies():
            raise SettingProblem("unknown_currency", value=str(currency))
        if isinstance(amount, int) and not isinstance(amount, bool) and amount >= 1:
            parsed[code] = amount
        else:
            parsed[code] = parse_minimum_cents(amount, code)
    return dict(sorted(parsed.items()))


def payment_methods(raw: Any) -> dict[str, dict[str, Any]]:
    """{method: {"provider": name, "enabled": bool}}; which providers are configured is checked on use."""
    if not isinstance(raw, Mapping):
        raise SettingProblem("invalid_structure")
    for method, choice in raw.items():
        if method not in METHODS or not isinstance(choice, Mapping):
            raise SettingProblem("invalid_structure")
        provider, enabled = choice.get("provider"), choice.get("enabled")
        if not isinstance(provider, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,19}", provider):
            raise SettingProblem("invalid_structure")
        if not isinstance(enabled, bool):
            raise SettingProblem("invalid_structure")
    return {
        method: {"provider": raw[method]["provider"], "enabled": raw[method]["enabled"]}
        for method in METHODS
        if method in raw
    }


CONTACT_DAYS = ("weekdays", "saturday", "sunday")

# "08:00-21:00"; also "8:00 - 21:00" and an en dash as people type it. Seconds or "8 till 5" are no window.
_WINDOW = re.compile(r"(\d{1,2}):(\d{2})\s*[-\u2013]\s*(\d{1,2}):(\d{2})")


def parse_contact_window(raw: Any) -> str | None:
    """One day's contact window as "HH:MM-HH:MM" (start before end, both within the day); empty: no contact."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = raw.strip() if isinstance(raw, str) else str(raw)
    match = _WINDOW.fullmatch(text)
    if match is None:
        raise SettingProblem("invalid_contact_window", value=text)
    start_hour, start_minute, end_hour, end_minute = (int(part) for part in match.groups())
    if start_hour > 23 or end_hour > 23 or start_minute > 59 or end_minute > 59:
        raise SettingProblem("invalid_contact_window", value=text)
    if (start_hour, start_minute) >= (end_hour, end_minute):
        raise SettingProblem("contact_window_order")
    return f"{start_hour:02d}:{start_minute:02d}-{end_hour:02d}:{end_minute:02d}"


def contact_hours(raw: Any) -> dict[str, str | None]:
    """{"weekdays": "08:00-21:00", "saturday": "09:00-17:00", "sunday": None}: a day left out has no contact."""
    if not isinstance(raw, Mapping) or not set(raw) <= set(CONTACT_DAYS):
        raise SettingProblem("invalid_structure")
    hours = {day: parse_contact_window(raw.get(day)) for day in CONTACT_DAYS}
    if not any(hours.values()):
        # Reminders would wait for ever; "never contact anyone" is not a policy, it is a switch that belongs elsewhere.
        raise SettingProblem("no_contact_at_all")
    return hours


def one_of(*choices: str) -> Callable[[Any], str]:
    """A validator for a setting that is one of a few fixed words (the form shows them as options)."""

    def parse(raw: Any) -> str:
        value = str(raw or "").strip()
        if value not in choices:
            raise SettingProblem("not_a_choice", value=value)
        return value

    return parse


def whole_number(minimum: int, maximum: int) -> Callable[[Any], int]:
    """A validator for a count of days or changes: digits only, within [minimum, maximum]."""

    def parse(raw: Any) -> int:
        text = str(raw).strip() if not isinstance(raw, bool) else ""
        if isinstance(raw, int) and not isinstance(raw, bool):
            text = str(raw)
        if not text.isascii() or not text.isdigit() or not minimum <= int(text) <= maximum:
            raise SettingProblem("not_a_whole_number", minimum=minimum, maximum=maximum)
        return int(text)

    return parse


def days_of_month(raw: Any) -> list[int]:
    """``"1-28"``, ``"1, 15, 25"`` or ``[1, 15, 25]`` -> the sorted days; each from 1 to 31, at least one."""
    parts: list[Any] = list(raw) if isinstance(raw, list | tuple) else str(raw or "").replace(";", ",").split(",")
    days: set[int] = set()
    for part in parts:
        text = str(part).strip()
        first, dash, last = text.partition("-")
        bounds = [first.strip(), last.strip()] if dash else [text]
        if not all(bound.isascii() and bound.isdigit() for bound in bounds):
            raise SettingProblem("invalid_days")
        low, high = int(bounds[0]), int(bounds[-1])
        if not 1 <= low <= high <= 31:
            raise SettingProblem("invalid_days")
        days.update(range(low, high + 1))
    if not days:
        raise SettingProblem("invalid_days")
    return sorted(days)


def days_text(days: Sequence[int]) -> str:
    """[1, 2, ..., 28] -> "1-28", [1, 15, 16, 17] -> "1, 15-17": days as a person types them (see days_of_month)."""
    parts: list[str] = []
    ordered = sorted(set(days))
    start = 0
    for index, day in enumerate(ordered):
        if index + 1 < len(ordered) and ordered[index + 1] == day + 1:
            continue
        first = ordered[start]
        parts.append(str(first) if first == day else f"{first}-{day}")
        start = index + 1
    return ", ".join(parts)
