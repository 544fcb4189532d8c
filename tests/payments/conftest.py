"""Apps wired to the Stripe or Mollie stand-in, and the debtor's steps shared by the payment tests."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.fixtures.factories import csrf_token


def close_providers(app: Flask) -> None:
    for provider in app.extensions.get("payment_providers", {}).values():
        close = getattr(provider, "close", None)
        if close is not None:
            close()


@pytest.fixture()
def stripe_app(make_app: Callable[..., Flask], stripe_standin: Any) -> Iterator[Flask]:
    app = make_app(
        STRIPE_SECRET_KEY=stripe_standin.secret_key,
        STRIPE_WEBHOOK_SECRET=stripe_standin.webhook_secret,
        STRIPE_API_BASE=stripe_standin.base_url,
        PROVIDER_TIMEOUT_SECONDS=1,
    )
    yield app
    close_providers(app)


@pytest.fixture()
def mollie_app(make_app: Callable[..., Flask], mollie_standin: Any) -> Iterator[Flask]:
    app = make_app(
        MOLLIE_API_KEY=mollie_standin.api_key,
        MOLLIE_API_ENDPOINT=mollie_standin.api_endpoint,
        PROVIDER_TIMEOUT_SECONDS=1,
    )
    yield app
    close_providers(app)


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
