"""Fixtures the dispute tests share: a file store on disk, and a dispute opened as a debtor would."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import pytest
from flask import has_app_context

from portal.disputes.models import Dispute
from portal.disputes.services import Choice, open_dispute
from portal.invoices.models import Invoice
from portal.storage import file_store as file_store_of
from tests.fixtures.factories import TEST_ACTOR
from tests.plans.lifecycle_support import in_app  # noqa: F401  # a fixture: one app context for a whole test

ENERGY_LINES = [
    ("Stroom normaal", "100", "kWh", "0.25000", "21"),  # 25,00 + 5,25 VAT = 30,25
    ("Vastrecht", "1", "maand", "10.00000", "21"),  # 10,00 + 2,10 = 12,10
    ("Netbeheer", "1", "maand", "20.00000", "21"),  # 20,00 + 4,20 = 24,20
]


@pytest.fixture()
def file_store(app) -> Any:
    """The store the app's pages use (a folder of the test run): what a service stores, a page can serve."""
    return file_store_of(app.config)


@pytest.fixture()
def energy_invoice(create_customer, create_invoice) -> Callable[..., Invoice]:
    """energy_invoice(**overrides) -> an open, overdue invoice of a new English-speaking customer with three lines
    (66,55); the pages' words are checked in English, the Dutch catalog by the translation tests."""

    def make(customer: Any = None, **overrides: Any) -> Invoice:
        customer = customer or create_customer(language="en")
        return create_invoice(customer, lines=ENERGY_LINES, **overrides)

    return make


@pytest.fixture()
def dispute_on(app, session, file_store) -> Callable[..., Dispute]:
    """dispute_on(invoice, *more, lines=[...line positions of the first invoice], reason=..., uploads=[...]).

    Tests that go on changing the dispute use the ``in_app`` fixture: an object loaded in one app context is
    detached when it ends, and changes to it are then never written."""

    def make(
        invoice: Invoice,
        *more: Invoice,
        lines: list[int] | None = None,
        reason: str = "amount_wrong",
        explanation: str = "The meter reading is wrong.",
        uploads: list[Any] | None = None,
    ) -> Dispute:
        line_ids = {line.id for line in invoice.lines if line.position in (lines or [])}
        with nullcontext() if has_app_context() else app.app_context():
            dispute = open_dispute(
                session,
                file_store,
                invoice.customer,
                Choice([invoice.number, *(other.number for other in more)], line_ids),
                reason=reason,
                explanation=explanation,
                uploads=uploads or [],
                actor=TEST_ACTOR,
            )
            session.commit()
        return dispute

    return make
