"""Translation helpers and the rules for choosing a visitor's language.

Precedence: the language switch (remembered in a cookie) beats the customer's record, which beats
the browser's Accept-Language; the configured default comes last.

Formatting goes through small caches: a page formats dozens of amounts and dates and looks up dozens
of messages, and Flask-Babel's per-call context lookups were a third of the overview's time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale, dates, numbers
from babel.support import NullTranslations
from flask import current_app, g, has_app_context, has_request_context, request
from flask_babel import force_locale as _babel_force_locale
from flask_babel import get_locale, get_timezone, get_translations, gettext, lazy_gettext, ngettext
from flask_babel import pgettext as _p
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from portal.config import SUPPORTED_LOCALES

_ = gettext
_l = lazy_gettext
_n = ngettext

LANGUAGE_COOKIE = "portal_lang"
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}
_CACHE_KEY = "_portal_locale_cache"

__all__ = ["_", "_l", "_n", "_p", "force_locale", "select_locale", "format_money", "format_day", "current_language"]


def select_locale() -> str:
    if has_request_context():
        chosen = request.cookies.get(LANGUAGE_COOKIE)
        if chosen in SUPPORTED_LOCALES:
            return chosen
        person = g.get("customer") or _logged_in_staff()
        if person is not None and person.language in SUPPORTED_LOCALES:
            return person.language
        best = request.accept_languages.best_match(SUPPORTED_LOCALES)
        if best:
            return best
    return current_app.config["DEFAULT_LOCALE"]


def _logged_in_staff() -> Any:
    from flask_login import current_user

    from portal.sessions import is_staff_request

    if is_staff_request() and current_user.is_authenticated:
        return current_user
    return None


def select_timezone() -> str:
    customer = g.get("customer") if has_request_context() else None
    return customer.time_zone if customer is not None else current_app.config["DEFAULT_TIMEZONE"]


@contextmanager
def force_locale(locale: str) -> Iterator[None]:
    """Render in another language for a while (e-mails go out in the recipient's language)."""
    saved = g.pop(_CACHE_KEY, None)
    try:
        with _babel_force_locale(locale):
            yield
    finally:
        g.pop(_CACHE_KEY, None)
        if saved is not None:
            setattr(g, _CACHE_KEY, saved)


# The language stays "en" (one English catalog, <html lang="en">), but dates and numbers are written the
# British way, "28 June 2026": our English readers are in Europe, where "June 28, 2026" reads as American.
_FORMATTING_LOCALES = {"en": Locale("en", "GB")}


# One Locale object per locale for the process: the formatting caches below are keyed by it, and a key of
# another request's equal-but-not-identical Locale is compared with Babel's slow Locale.__eq__ on every hit.
_ONE_LOCALE_EACH: dict[str, Locale] = {}


def _locale_and_translations() -> tuple[Locale, NullTranslations]:
    cached = g.get(_CACHE_KEY)
    if cached is None:
        locale = get_locale() or Locale.parse(current_app.config["DEFAULT_LOCALE"])
        if not locale.territory:
            locale = _FORMATTING_LOCALES.get(locale.language, locale)
        locale = _ONE_LOCALE_EACH.setdefault(str(locale), locale)
        cached = (locale, get_translations())
        setattr(g, _CACHE_KEY, cached)
    return cached


def current_catalog() -> NullTranslations | None:
    """The catalog the visitor's pages (or a message's recipient's, under force_locale) are translated with;
    None outside an app context."""
    return _locale_and_translations()[1] if has_app_context() else None


def current_locale() -> Locale:
    return _locale_and_translations()[0]


def current_language() -> str:
    return current_locale().language


def format_money(cents: int, currency: str = "EUR") -> str:
    """``€ 1.234,56`` in Dutch, ``€1,234.56`` in English; exact, from integer cents."""
    return _money(cents, currency, current_locale())


@lru_cache(maxsize=8192)
def _money(cents: int, currency: str, locale: Locale) -> str:
    return numbers.format_currency(Decimal(cents).scaleb(-2), currency, locale=locale)


def format_day(day: date | datetime, style: str = "long") -> str:
    """A calendar day; a moment in time is first moved into the visitor's time zone."""
    if isinstance(day, datetime):
        day = day.astimezone(get_timezone()).date()
    return _day(day, style, current_locale())


@lru_cache(maxsize=8192)
def _day(day: date, style: str, locale: Locale) -> str:
    return dates.format_date(day, format=style, locale=locale)


def format_plain_amount(cents: int) -> str:
    """``525,93`` in Dutch, ``525.93`` in English: what a banking app's amount field takes, no sign or grouping."""
    return _plain_amount(cents, current_locale())


@lru_cache(maxsize=8192)
def _plain_amount(cents: int, locale: Locale) -> str:
    # Cached as money and days are: Babel parses the pattern anew on each call (1.7% of an overview, issue 10).
    return numbers.format_decimal(Decimal(cents).scaleb(-2), format="0.00", locale=locale)


def phone_href(phone: str) -> str:
    """``tel:+31201234567`` from a number as written for people, "+31 (0)20 123 45 67" included."""
    digits = phone.replace("(0)", "") if phone.strip().startswith("+") else phone
    return "tel:" + "".join(char for char in digits if char.isascii() and (char.isdigit() or char == "+"))


def format_quantity(value: Decimal) -> str:
    return numbers.format_decimal(value, format="#,##0.###", locale=current_locale())


def format_unit_price(value: Decimal, currency: str) -> str:
    """Unit prices keep their sub-cent digits (EUR 0,2735 per kWh), and show at least two."""
    return numbers.format_currency(value.normalize(), currency, locale=current_locale(), decimal_quantization=False)


def format_percent_rate(rate: Decimal) -> str:
    return numbers.format_percent(rate / 100, format="#,##0.##%", locale=current_locale())


ROLE_NAMES = {
    "viewer": _l("Viewer"),
    "agent": _l("Agent"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
}


MESSAGE_STATE_NAMES = {
    "queued": _l("Waiting"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "held": _l("Kept (no mail server)"),
}


def message_state_name(state: str) -> str:
    return str(MESSAGE_STATE_NAMES.get(state, state))


def format_moment(moment: datetime, all_day: bool = False) -> str:
    """Date and time in the visitor's time zone, e.g. "22 nov 2026, 14:05"; only the date when ``all_day``."""
    local = moment.astimezone(get_timezone())
    locale = current_locale()
    day = dates.format_date(local.date(), "medium", locale=locale)
    if all_day:
        return day
    time_of_day = dates.format_time(local.time(), "short", locale=locale)
    # Babel returns the locale's "{1}, {0}" pattern as text (its stubs say a pattern object).
    pattern = str(dates.get_datetime_format("medium", locale=locale))
    return pattern.replace("{1}", day).replace("{0}", time_of_day)


def format_file_size(size_bytes: int) -> str:
    """ "830 KB", "1,2 MB": a file's size as people read it, in the visitor's locale."""
    locale = current_locale()
    if size_bytes < 1024 * 1024:
        return f"{max(1, round(size_bytes / 1024))} KB"
    return f"{numbers.format_decimal(round(size_bytes / (1024 * 1024), 1), '0.0', locale=locale)} MB"


def role_name(role: str) -> str:
    return str(ROLE_NAMES.get(role, role))


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, message: str, **variables: Any) -> str:
    return _filled_in(eval_ctx, _locale_and_translations()[1].ugettext(message), variables)


@pass_eval_context
def _template_ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _filled_in(eval_ctx, _locale_and_translations()[1].ungettext(singular, plural, num), variables)


def _filled_in(eval_ctx: EvalContext, translated: str, variables: dict[str, Any]) -> str:
    """As Jinja's newstyle gettext: safe text from our own catalog, always %-formatted (the values escaped)."""
    if eval_ctx.autoescape:
        translated = Markup(translated)  # noqa: S704 - our own catalog, as in Jinja's; % escapes the variables
    if not variables and "%" not in translated:
        return translated  # what % {} would give, without its cost (most of a page's texts)
    return translated % variables


def init_template_helpers(app: Any) -> None:
    app.jinja_env.globals.update(
        money=format_money,
        plain_amount=format_plain_amount,
        phone_href=phone_href,
        day=format_day,
        current_language=current_language,
        language_names=LANGUAGE_NAMES,
        quantity=format_quantity,
        unit_price=format_unit_price,
        percent=format_percent_rate,
        role_name=role_name,
        message_state_name=message_state_name,
        moment=format_moment,
        filesize=format_file_size,
    )
    # Same behaviour as Flask-Babel's own callables, but the catalog is looked up once per request.
    app.jinja_env.install_gettext_callables(
        gettext=lambda message: _locale_and_translations()[1].ugettext(message),
        ngettext=lambda singular, plural, n: _locale_and_translations()[1].ungettext(singular, plural, n),
        pgettext=lambda context, message: _locale_and_translations()[1].upgettext(context, message),
        newstyle=True,
    )
    # Jinja's newstyle wrappers reach the catalog through three template calls for every ``_()``; a page has
    # dozens. These do the same (escape-safe, always %-formatted) in one.
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
