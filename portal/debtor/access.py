"""Binding a debtor to the browser session, and the guard every debtor page sits behind.

The session holds the link's id, never the token. Every request re-checks that link, so revoking
or expiring it ends the session too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import g, redirect, request, session, url_for
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.debtor.visit_log import visit_log
from portal.debtor.visits import Visit, note_page_view
from portal.extensions import db
from portal.links.models import PortalLink
from portal.web import client_address

SESSION_KEY = "debtor_link_id"
VISIT_KEY = "debtor_visit"  # [visit id, last page's time as a timestamp]
VIA_LINK_KEY = "debtor_via_link"


def bind_debtor(link: PortalLink) -> None:
    # A fresh session, so nothing from before the link was opened (another customer's, too) survives.
    session.clear()
    session[SESSION_KEY] = link.id
    session[VIA_LINK_KEY] = True


def note_visit(page: str, invoice: str | None = None, *, access: str | None = None) -> None:
    """Record a page the debtor saw as part of their visit, with its access record if ``access`` names the
    audit action; the caller commits (the records may be written a moment later, see visit_log)."""
    kept = session.get(VISIT_KEY)
    visit = None
    if isinstance(kept, list) and len(kept) == 2:
        visit = Visit(id=str(kept[0]), last_seen=datetime.fromtimestamp(int(kept[1]), UTC))
    visit = note_page_view(
        db.session,
        g.customer.id,
        actor=debtor_actor(),
        visit=visit,
        page=page,
        log=visit_log(),
        invoice=invoice,
        via_link=bool(session.pop(VIA_LINK_KEY, False)),
        access=access,
    )
    session[VISIT_KEY] = [visit.id, int(visit.last_seen.timestamp())]


def debtor_actor() -> Actor:
    customer = g.get("customer")
    return Actor(
        type="debtor",
        id=customer.external_ref if customer is not None else None,
        ip_address=client_address(),
        user_agent=request.user_agent.string,
    )


def load_debtor() -> Customer | None:
    link_id = session.get(SESSION_KEY)
    if not isinstance(link_id, int):
        return None
    # One query for the link and its customer: this runs on every debtor request.
    link = db.session.scalars(_LINK_WITH_CUSTOMER, {"link_id": link_id}).first()
    if link is None or not link.is_usable(clock.now()):
        session.pop(SESSION_KEY, None)
        return None
    return link.customer


# Built once: every debtor request asks it.
_LINK_WITH_CUSTOMER = (
    select(PortalLink).where(PortalLink.id == bindparam("link_id")).options(joinedload(PortalLink.customer))
)


def reads_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """For a debtor page that writes nothing but its page view: when page views are written behind, its
    transaction only reads, so on SQLite it begins without the write lock and waits for no writer.
    Put it above ``debtor_required``, so it comes before the first query."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if visit_log().writes_behind:
            db.reads_only()
        return view(*args, **kwargs)

    return wrapper


def debtor_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        customer = load_debtor()
        if customer is None:
            return redirect(url_for("links.problem"))
        g.customer = customer
        return view(*args, **kwargs)

    return wrapper
