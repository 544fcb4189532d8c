"""The debtor's and staff's steps shared by the payment tests (the provider apps: tests/fixtures/provider_apps.py)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from tests.fixtures.factories import csrf_token


def start_payment(client: FlaskClient, numbers: list[str], method: str = "ideal", **extra: str) -> Any:
    """Choose invoices and a method on the pay page and submit, as the debtor does."""
    data: dict[str, Any] = {"csrf_token": csrf_token(client, "/pay"), "invoice": numbers, "method": method, **extra}
    return client.post("/pay", data=data)


def local_path(url: str) -> str:
    return url.removeprefix("http://localhost")


def refund_form(staff: FlaskClient, page: str, amount: str) -> dict[str, str]:
    """The refund form on a customer's page, filled in and confirmed on the page that follows, as staff send it."""
    html = staff.get(page).get_data(as_text=True)
    found = re.search(r'name="request_id" value="(\w+)"', html)
    assert found, "no refund form on the page"
    return {"csrf_token": csrf_token(staff, page), "request_id": found.group(1), "amount": amount, "confirmed": "yes"}
