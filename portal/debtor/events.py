"""The debtor's visits: "visited the portal" once per visit, with the pages seen folded under it."""

from __future__ import annotations

from typing import Any

from portal.events import EventKind, Presentation, register
from portal.events.models import DomainEvent
from portal.events.registry import name_category
from portal.i18n import _, _l

VISITED = "portal.visited"
PAGE_VIEWED = "portal.page_viewed"

_PAGES: dict[str, Any] = {
    "overview": _l("Overview"),
    "invoice": _l("Invoice %(number)s"),
    "invoice_pdf": _l("PDF of invoice %(number)s"),
    "pay": _l("Pay page"),
    "debit_day": _l("Direct debit: change the collection day"),
    "debit_stop": _l("Direct debit: stop"),
    "debit_failed": _l("Direct debit: choices after a failed debit"),
    "plan_start": _l("Payment plan: I need more time"),
    "plan": _l("Payment plan"),
    "plan_pdf": _l("Payment plan: PDF of the agreement"),
    "plan_pay": _l("Payment plan: pay an instalment"),
    "promise": _l("Promise to pay: choose a date"),
    "promise_made": _l("Promise to pay: confirmation"),
    "cannot_pay": _l("I cannot pay: help and a call back"),
    "dispute": _l("A question about an invoice"),
}


def _present_visit(event: DomainEvent, _extra: Any) -> Presentation:
    via_link = event.payload.get("via") == "link"
    return Presentation(title=_("Visited the portal"), detail=_("Opened the personal link") if via_link else "")


def _present_page(event: DomainEvent, _extra: Any) -> Presentation:
    page = str(event.payload.get("page", ""))
    label = _PAGES.get(page)
    title = str(label) % {"number": event.payload.get("invoice", "")} if label is not None else page
    return Presentation(title=title)


register(EventKind(name=VISITED, category="visit", present=_present_visit))
register(EventKind(name=PAGE_VIEWED, category="visit", present=_present_page, folded_under=VISITED))
name_category("visit", _l("Visits"))
