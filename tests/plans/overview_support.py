"""What the debtor-side plan tests share: a plan proposed as the debtor would, and page text."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.plans.models import PaymentPlan
from portal.plans.services import ConsentEvidence, propose_plan
from tests.debits.debtor_pages import text_of, token_on

DEBTOR = Actor(type="debtor", id="test")
CONSENT = ConsentEvidence(
    text="I agree to pay these invoices in the instalments shown.", locale="en", ip_address=None, user_agent="test"
)

__all__ = ["CONSENT", "DEBTOR", "page_text", "propose", "token_on"]


def propose(
    app: Flask,
    session: Session,
    customer: Customer,
    numbers: list[str],
    *,
    instalments: int,
    first: date,
    every: str = "month",
    method: str = "portal",
) -> PaymentPlan:
    """A plan as the debtor proposes it: agreed at once inside the policy, else waiting for staff."""
    with app.test_request_context():
        plan = propose_plan(
            session,
            customer,
            numbers,
            instalments=instalments,
            every=every,
            first=first,
            consent=CONSENT,
            actor=DEBTOR,
            method=method,
        )
        session.commit()
    return plan


def page_text(response: Any) -> str:
    return text_of(response.get_data(as_text=True))
