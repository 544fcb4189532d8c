"""Fixtures the plan tests share."""

from __future__ import annotations

import pytest

from tests.plans.staff_support import proposer


@pytest.fixture()
def propose(app, session, create_customer, create_invoice):
    """propose(instalments=12, ...) -> a plan proposed by a new customer with one overdue invoice."""
    return proposer(app, session, create_customer, create_invoice)
