"""Shared steps of the staff plan tests: a customer with an overdue invoice who proposes a plan, as the
debtor's page would (services.propose_plan with the consent text they saw)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import time_machine

from portal.plans import services
from portal.plans.models import PaymentPlan
from portal.plans.services import ConsentEvidence
from tests.fixtures.factories import TEST_ACTOR

# Wednesday 2 December 2026, 10:00 UTC: the invoices of October are overdue.
NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)
# 1000 kWh at 0.50 plus 21% VAT: EUR 605.00, so an instalment of a 3-month plan is above the 25.00 minimum.
BIG_LINES = [("Stroom", "1000", "kWh", "0.50000", "21")]
CONSENT_TEXT = "I agree to pay EUR 605.00 in 12 monthly instalments. I acknowledge the debt."
DEBTOR_IP = "192.0.2.44"
DEBTOR_BROWSER = "Mozilla/5.0 (Android 14; Mobile) Firefox/133.0"


def text_of(html: str) -> str:
    """The page as a person reads it: tags gone, white space folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def main_of(html: str) -> str:
    return html.split('<main id="main"', 1)[1]


def proposer(app, session, create_customer, create_invoice):
    """propose(instalments=12, ...) -> a plan proposed by a new customer with one overdue invoice: the
    ``propose`` fixture (conftest.py). Inside the app, whose configuration the e-mail's personal link needs."""

    def make(
        *,
        instalments: int = 12,
        every: str = "month",
        first: date = date(2026, 12, 15),
        at: datetime = NOW,
        name: str | None = None,
        kind: str = "consumer",
        reason: str | None = "I lost my job in October; I start a new one in January.",
        budget: dict[str, int] | None = None,
    ) -> PaymentPlan:
        extra = {"name": name} if name else {}
        customer = create_customer(language="en", kind=kind, phone="06 12345678", **extra)
        invoice = create_invoice(customer, lines=BIG_LINES)
        consent = ConsentEvidence(text=CONSENT_TEXT, locale="en", ip_address=DEBTOR_IP, user_agent=DEBTOR_BROWSER)
        with app.app_context(), time_machine.travel(at, tick=False):
            plan = services.propose_plan(
                session,
                customer,
                [invoice.number],
                instalments=instalments,
                every=every,
                first=first,
                consent=consent,
                actor=TEST_ACTOR,
                reason=reason,
                budget=budget,
            )
            session.commit()
        # Loaded now, so the test can still read them once a request has closed this session.
        assert plan.customer.name and plan.reference
        return plan

    return make


def reread(session, plan: PaymentPlan) -> PaymentPlan:
    session.expire_all()
    found = session.get(PaymentPlan, plan.id)
    assert found is not None
    return found
