"""Template globals of the plan pages."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g

from portal import clock
from portal.extensions import db
from portal.plans.overview import PlansView
from portal.plans.policy import plan_policy
from portal.plans.services import has_eligible_invoice

_KNOWN = "_plans_more_time"
_ASKED = "_plans_more_time_asked"


def has_endpoint(endpoint: str) -> bool:
    """Whether a page exists in this app, so a template can link to a feature only where it is installed
    (the plan pages and the pages that link to them are built and can be deployed apart)."""
    return endpoint in current_app.view_functions


@dataclass(frozen=True)
class MoreTime:
    """Whether a debtor can still ask for more time, as a page read it with its plans and promises."""

    offered: bool  # some invoice can still be in a plan or promise
    covered: frozenset[str]  # the invoice numbers already in one


def note_more_time(customer_id: int, plans: PlansView) -> None:
    """For a view that read the customer's plans (``plans_view``): keeps their answer for this request's
    templates, so they ask nothing after the page's commit (a statement then would begin a second transaction,
    on SQLite one that takes the write lock). Call it before the commit."""
    g.setdefault(_KNOWN, {})[customer_id] = MoreTime(plans.more_time_offered, frozenset(plans.covered))


def more_time_offered(number: str | None = None) -> bool:
    """Whether to offer the debtor more time (a payment plan, a promise to pay) for their invoices, or for invoice
    ``number``: not when every invoice is already in a plan or promise (or otherwise cannot have one), where the
    link would only lead to a page saying there is nothing to do. Pages that read the plans (plans_view) noted the
    answer already; any other asks once per request and invoice."""
    customer = g.get("customer")
    if customer is None:
        return False
    known: MoreTime | None = g.get(_KNOWN, {}).get(customer.id)
    if known is not None:
        return known.offered if number is None else number not in known.covered
    asked: dict[str | None, bool] = g.setdefault(_ASKED, {})
    if number not in asked:
        policy = plan_policy(db.session)
        asked[number] = has_eligible_invoice(db.session, customer.id, policy, clock.today_for(customer), number)
    return asked[number]
