"""Translation helpers and the rules for choosing a visitor's language.

Precedence: the language switch (remembered in a cookie) beats the customer's record, which beats
the browser's Accept-Language; the configured default comes last.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from babel import numbers as babel_numbers
from flask import current_app, g, has_request_context, request
from flask_babel import (
    force_locale,
    format_currency,
    format_date,
    format_decimal,
    format_percent,
    get_locale,
    gettext,
    lazy_gettext,
    ngettext,
)
from flask_babel import pgettext as _p

from portal.config import SUPPORTED_LOCALES

_ = gettext
_l = lazy_gettext
_n = ngettext

LANGUAGE_COOKIE = "portal_lang"
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}

__all__ = ["_", "_l", "_n", "_p", "force_locale", "select_locale", "format_money", "format_day", "current_language"]


def select_locale() -> str:
    if has_request_context():
        chosen = request.cookies.get(LANGUAGE_COOKIE)
        if chosen in SUPPORTED_LOCALES:
            return chosen
        customer = g.get("customer")
        if customer is not None and customer.language in SUPPORTED_LOCALES:
            return customer.language
        best = request.accept_languages.best_match(SUPPORTED_LOCALES)
        if best:
            return best
    return current_app.config["DEFAULT_LOCALE"]


def select_timezone() -> str:
    customer = g.get("customer") if has_request_context() else None
    return customer.time_zone if customer is not None else current_app.config["DEFAULT_TIMEZONE"]


def current_language() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


def format_money(cents: int, currency: str = "EUR") -> str:
    """``€ 1.234,56`` in Dutch, ``€1,234.56`` in English; exact, from integer cents."""
    return format_currency(Decimal(cents).scaleb(-2), currency)


def format_day(day: date, style: str = "long") -> str:
    return format_date(day, format=style)


def init_template_helpers(app: Any) -> None:
    app.jinja_env.globals.update(
        money=format_money,
        day=format_day,
        current_language=current_language,
        language_names=LANGUAGE_NAMES,
        pgettext=_p,
        quantity=format_quantity,
        unit_price=format_unit_price,
        percent=format_percent_rate,
    )
    app.jinja_env.policies["ext.i18n.trimmed"] = True


def format_quantity(value: Decimal) -> str:
    return format_decimal(value, format="#,##0.###")


def format_unit_price(value: Decimal, currency: str) -> str:
    """Unit prices keep their sub-cent digits (EUR 0,2735 per kWh), and show at least two."""
    return babel_numbers.format_currency(value.normalize(), currency, locale=get_locale(), decimal_quantization=False)


def format_percent_rate(rate: Decimal) -> str:
    return format_percent(rate / 100, format="#,##0.##%")
