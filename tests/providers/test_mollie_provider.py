"""MollieProvider through the real mollie-api-python SDK, over HTTP, against the local Mollie stand-in."""

from __future__ import annotations

import dataclasses
import logging
import socket
from collections.abc import Iterator

import pytest
import requests

from portal.providers import mollie as mollie_module
from portal.providers.base import (
    CheckoutRequest,
    InvalidWebhook,
    ProviderRejected,
    ProviderUnavailable,
    Reversal,
    WebhookNotice,
)
from portal.providers.mollie import MollieProvider
from tests.fixtures.mollie_standin import MollieStandIn, mollie_standin  # noqa: F401

BASE_REQUEST = CheckoutRequest(
    payment_id=42,
    amount_cents=1250,
    currency="EUR",
    method="ideal",
    description="Invoice 2024-0042",
    locale="nl",
    return_url="https://portal.example/pay/return/42",
    webhook_url="https://portal.example/webhooks/mollie",
    customer_ref="CUST-007",
    customer_name="Jan Jansen",
    customer_email="jan@example.nl",
    idempotency_key="payment-42",
)


def checkout_request(**changes: object) -> CheckoutRequest:
    return dataclasses.replace(BASE_REQUEST, **changes)


@pytest.fixture
def provider(mollie_standin: MollieStandIn) -> Iterator[MollieProvider]:  # noqa: F811
    provider = MollieProvider(mollie_standin.api_key, mollie_standin.api_endpoint, timeout_seconds=2.0)
    yield provider
    provider.close()


def posts(standin: MollieStandIn, path: str) -> list[tuple]:
    return [entry for entry in standin.requests if entry[0] == "POST" and entry[1] == path]


def paid_payment(provider: MollieProvider, standin: MollieStandIn, amount_cents: int = 1250) -> str:
    checkout = provider.start_checkout(checkout_request(amount_cents=amount_cents))
    standin.set_status(checkout.external_id, "paid")
    return checkout.external_id


# -- checkout -------------------------------------------------------------------------------------------------


def test_checkout_sends_amount_method_locale_metadata_and_our_idempotency_key(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    checkout = provider.start_checkout(BASE_REQUEST)

    [(_, _, body, headers)] = posts(mollie_standin, "/v2/payments")
    assert body == {
        "amount": {"currency": "EUR", "value": "12.50"},
        "description": "Invoice 2024-0042",
        "redirectUrl": "https://portal.example/pay/return/42",
        "webhookUrl": "https://portal.example/webhooks/mollie",
        "method": "ideal",
        "locale": "nl_NL",
        "metadata": {"payment_id": 42, "customer_ref": "CUST-007"},
    }
    assert headers["Idempotency-Key"] == "payment-42"
    assert headers["Authorization"] == f"Bearer {mollie_standin.api_key}"
    assert checkout.external_id.startswith("tr_")
    assert checkout.redirect_url == f"{mollie_standin.base_url}/checkout/{checkout.external_id}"


@pytest.mark.parametrize(
    ("amount_cents", "value"),
    [(1, "0.01"), (10, "0.10"), (100, "1.00"), (1999, "19.99"), (123456789, "1234567.89")],
)
def test_amounts_are_formatted_from_cents(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
    amount_cents: int,
    value: str,
) -> None:
    checkout = provider.start_checkout(checkout_request(amount_cents=amount_cents))

    assert posts(mollie_standin, "/v2/payments")[0][2]["amount"] == {"currency": "EUR", "value": value}
    assert provider.fetch_status(checkout.external_id).amount_cents == amount_cents


def test_english_creditcard_in_dollars(provider: MollieProvider, mollie_standin: MollieStandIn) -> None:  # noqa: F811
    provider.start_checkout(checkout_request(method="creditcard", currency="USD", locale="en"))

    body = posts(mollie_standin, "/v2/payments")[0][2]
    assert (body["method"], body["locale"], body["amount"]["currency"]) == ("creditcard", "en_US", "USD")


def test_repeating_the_idempotency_key_returns_the_same_payment(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    first = provider.start_checkout(BASE_REQUEST)
    again = provider.start_checkout(BASE_REQUEST)
    other = provider.start_checkout(checkout_request(payment_id=43, idempotency_key="payment-43"))

    assert again == first
    assert other.external_id != first.external_id
    listed = requests.get(
        f"{mollie_standin.api_endpoint}/v2/payments",
        headers={"Authorization": f"Bearer {mollie_standin.api_key}"},
        timeout=5,
    ).json()
    assert [payment["id"] for payment in listed["_embedded"]["payments"]] == [first.external_id, other.external_id]


def test_a_failed_create_can_be_retried_with_the_same_key(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    mollie_standin.fail_next(1, status=503)
    with pytest.raises(ProviderUnavailable):
        provider.start_checkout(BASE_REQUEST)

    checkout = provider.start_checkout(BASE_REQUEST)

    assert [entry[3]["Idempotency-Key"] for entry in posts(mollie_standin, "/v2/payments")] == ["payment-42"] * 2
    assert provider.fetch_status(checkout.external_id).state == "open"


def test_directdebit_creates_a_customer_and_a_first_payment(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    checkout = provider.start_checkout(checkout_request(method="directdebit"))

    [(_, _, customer_body, customer_headers)] = posts(mollie_standin, "/v2/customers")
    assert customer_body == {
        "name": "Jan Jansen",
        "email": "jan@example.nl",
        "locale": "nl_NL",
        "metadata": {"customer_ref": "CUST-007"},
    }
    assert customer_headers["Idempotency-Key"] == "payment-42-customer"
    [(_, _, payment_body, payment_headers)] = posts(mollie_standin, "/v2/payments")
    assert payment_body["customerId"].startswith("cst_")
    assert payment_body["sequenceType"] == "first"
    assert "method" not in payment_body
    assert payment_body["amount"] == {"currency": "EUR", "value": "12.50"}
    assert payment_headers["Idempotency-Key"] == "payment-42"
    assert mollie_standin.payment(checkout.external_id)["customerId"] == payment_body["customerId"]


def test_directdebit_retry_reuses_customer_and_payment(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    first = provider.start_checkout(checkout_request(method="directdebit"))
    again = provider.start_checkout(checkout_request(method="directdebit"))

    assert again == first
    customer_ids = {entry[2]["customerId"] for entry in posts(mollie_standin, "/v2/payments")}
    assert len(customer_ids) == 1


def test_directdebit_customer_without_email(provider: MollieProvider, mollie_standin: MollieStandIn) -> None:  # noqa: F811
    provider.start_checkout(checkout_request(method="directdebit", customer_email=None, locale="en"))

    customer_body = posts(mollie_standin, "/v2/customers")[0][2]
    assert "email" not in customer_body
    assert customer_body["locale"] == "en_US"


def test_an_unknown_method_is_rejected_without_a_call(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    with pytest.raises(ProviderRejected):
        provider.start_checkout(checkout_request(method="banktransfer"))
    assert mollie_standin.requests == []


def test_invalid_input_answered_422_is_rejected(provider: MollieProvider) -> None:
    # iDEAL takes euros only; the stand-in answers 422 like Mollie.
    with pytest.raises(ProviderRejected):
        provider.start_checkout(checkout_request(currency="USD"))


def test_method_rules() -> None:
    provider = MollieProvider("test_rulesonly")
    assert provider.name == "mollie"
    assert set(provider.methods) == {"ideal", "creditcard", "bancontact", "paypal", "directdebit"}
    assert provider.supports("creditcard", 1, "GBP")
    assert provider.supports("directdebit", 1, "EUR")
    assert not provider.supports("ideal", 1250, "USD")
    assert not provider.supports("ideal", 0, "EUR")
    assert not provider.supports("banktransfer", 1250, "EUR")


# -- status ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mollie_status", "state"),
    [
        ("open", "open"),
        ("pending", "pending"),
        ("authorized", "pending"),
        ("paid", "paid"),
        ("failed", "failed"),
        ("canceled", "cancelled"),
        ("expired", "expired"),
    ],
)
def test_status_mapping(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
    mollie_status: str,
    state: str,
) -> None:
    checkout = provider.start_checkout(BASE_REQUEST)
    mollie_standin.set_status(checkout.external_id, mollie_status)

    status = provider.fetch_status(checkout.external_id)

    assert status.state == state
    assert status.external_id == checkout.external_id
    assert (status.amount_cents, status.currency, status.payment_id) == (1250, "EUR", 42)
    assert status.method == "ideal"
    assert status.reversals == ()
    assert status.failure_reason is None
    assert status.mandate_reference is None


def test_failure_reason_from_bank_reason_code(provider: MollieProvider, mollie_standin: MollieStandIn) -> None:  # noqa: F811
    checkout = provider.start_checkout(BASE_REQUEST)
    mollie_standin.set_status(checkout.external_id, "failed", bankReasonCode="AM04", bankReason="Insufficient funds")

    assert provider.fetch_status(checkout.external_id).failure_reason == "AM04"


def test_failure_reason_from_failure_reason(provider: MollieProvider, mollie_standin: MollieStandIn) -> None:  # noqa: F811
    checkout = provider.start_checkout(checkout_request(method="creditcard"))
    mollie_standin.set_status(checkout.external_id, "failed", failureReason="insufficient_funds")

    status = provider.fetch_status(checkout.external_id)

    assert (status.state, status.failure_reason, status.method) == ("failed", "insufficient_funds", "creditcard")


def test_paid_first_payment_reports_directdebit_and_the_mandate(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    checkout = provider.start_checkout(checkout_request(method="directdebit"))
    mollie_standin.set_status(checkout.external_id, "paid", method="ideal")

    status = provider.fetch_status(checkout.external_id)

    assert status.state == "paid"
    assert status.method == "directdebit"
    assert status.mandate_reference is not None
    assert status.mandate_reference == mollie_standin.payment(checkout.external_id)["mandateId"]
    assert status.payment_id == 42


def test_a_method_we_do_not_name_is_reported_as_unknown(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    checkout = provider.start_checkout(BASE_REQUEST)
    mollie_standin.set_status(checkout.external_id, "paid", method="applepay")

    assert provider.fetch_status(checkout.external_id).method is None


def test_status_without_reversals_makes_a_single_call(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    external_id = paid_payment(provider, mollie_standin)
    before = len(mollie_standin.requests)

    provider.fetch_status(external_id)

    assert [entry[:2] for entry in mollie_standin.requests[before:]] == [("GET", f"/v2/payments/{external_id}")]


def test_unknown_payment_is_rejected(provider: MollieProvider) -> None:
    with pytest.raises(ProviderRejected):
        provider.fetch_status("tr_doesnotexist")


def test_a_malformed_id_is_rejected_without_a_call(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    with pytest.raises(ProviderRejected):
        provider.fetch_status("../customers")
    assert mollie_standin.requests == []


# -- refunds and chargebacks -----------------------------------------------------------------------------------


def test_refund_uses_our_key_and_shows_up_as_a_reversal(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    external_id = paid_payment(provider, mollie_standin)

    reversal = provider.refund(external_id, 500, "EUR", "refund-42-1")

    assert reversal.kind == "refund"
    assert reversal.amount_cents == 500
    assert reversal.external_id.startswith("re_")
    [(_, _, body, headers)] = posts(mollie_standin, f"/v2/payments/{external_id}/refunds")
    assert body == {"amount": {"currency": "EUR", "value": "5.00"}}
    assert headers["Idempotency-Key"] == "refund-42-1"
    assert provider.fetch_status(external_id).reversals == (reversal,)


def test_repeating_a_refund_key_does_not_refund_twice(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    external_id = paid_payment(provider, mollie_standin)

    first = provider.refund(external_id, 500, "EUR", "refund-42-1")
    again = provider.refund(external_id, 500, "EUR", "refund-42-1")

    assert again == first
    assert provider.fetch_status(external_id).reversals == (first,)


def test_a_failed_or_canceled_refund_is_not_a_reversal(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    external_id = paid_payment(provider, mollie_standin)
    failed = provider.refund(external_id, 300, "EUR", "refund-42-1")
    canceled = provider.refund(external_id, 200, "EUR", "refund-42-2")
    kept = provider.refund(external_id, 100, "EUR", "refund-42-3")
    mollie_standin.set_refund_status(failed.external_id, "failed")
    mollie_standin.set_refund_status(canceled.external_id, "canceled")
    mollie_standin.set_refund_status(kept.external_id, "refunded")

    assert provider.fetch_status(external_id).reversals == (kept,)


def test_chargebacks_are_reversals(provider: MollieProvider, mollie_standin: MollieStandIn) -> None:  # noqa: F811
    external_id = paid_payment(provider, mollie_standin)
    refund = provider.refund(external_id, 250, "EUR", "refund-42-1")
    chargeback_id = mollie_standin.add_chargeback(external_id, 1000)

    status = provider.fetch_status(external_id)

    assert status.state == "paid"
    assert status.reversals == (refund, Reversal(chargeback_id, "chargeback", 1000))
    paths = [entry[1] for entry in mollie_standin.requests if entry[0] == "GET"]
    assert any(path.startswith(f"/v2/payments/{external_id}/chargebacks") for path in paths)


def test_reversal_lists_are_followed_over_pages(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With a page size of 2 the SDK must follow the stand-in's `_links.next` href for the third refund.
    monkeypatch.setattr(mollie_module, "_LIST_LIMIT", 2)
    external_id = paid_payment(provider, mollie_standin)
    refunds = [provider.refund(external_id, 100, "EUR", f"refund-42-{n}") for n in range(3)]

    assert provider.fetch_status(external_id).reversals == tuple(refunds)
    assert any("from=re_" in entry[1] for entry in mollie_standin.requests)


def test_refunding_more_than_paid_is_rejected(provider: MollieProvider, mollie_standin: MollieStandIn) -> None:  # noqa: F811
    external_id = paid_payment(provider, mollie_standin)

    with pytest.raises(ProviderRejected):
        provider.refund(external_id, 1251, "EUR", "refund-42-1")


def test_refunding_an_unpaid_payment_is_rejected(provider: MollieProvider) -> None:
    checkout = provider.start_checkout(BASE_REQUEST)

    with pytest.raises(ProviderRejected):
        provider.refund(checkout.external_id, 100, "EUR", "refund-42-1")


# -- webhooks -------------------------------------------------------------------------------------------------


def test_webhook_body_names_the_payment(provider: MollieProvider, mollie_standin: MollieStandIn) -> None:  # noqa: F811
    checkout = provider.start_checkout(BASE_REQUEST)

    notice = provider.parse_webhook(mollie_standin.webhook_body(checkout.external_id), {})

    assert notice == WebhookNotice(reference=checkout.external_id)


@pytest.mark.parametrize("body", [b"", b"id=", b"foo=bar", b'{"id": "tr_abc"}', b"id=\xff\xfe"])
def test_webhook_without_a_readable_id_is_invalid(provider: MollieProvider, body: bytes) -> None:
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(body, {"Content-Type": "application/x-www-form-urlencoded"})


@pytest.mark.parametrize("body", [b"id=ord_abc123", b"id=sub_abc123", b"id=tr_abc%2F..%2F"])
def test_webhook_about_something_else_is_ignored(provider: MollieProvider, body: bytes) -> None:
    assert provider.parse_webhook(body, {}) is None


# -- failures -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_unavailable(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
    status: int,
) -> None:
    checkout = provider.start_checkout(BASE_REQUEST)
    mollie_standin.set_status(checkout.external_id, "paid")

    mollie_standin.fail_next(3, status=status)
    with pytest.raises(ProviderUnavailable):
        provider.fetch_status(checkout.external_id)
    with pytest.raises(ProviderUnavailable):
        provider.start_checkout(checkout_request(idempotency_key="payment-42-b"))
    with pytest.raises(ProviderUnavailable):
        provider.refund(checkout.external_id, 100, "EUR", "refund-42-1")

    assert provider.fetch_status(checkout.external_id).state == "paid"


def test_a_slow_answer_is_unavailable(mollie_standin: MollieStandIn) -> None:  # noqa: F811
    provider = MollieProvider(mollie_standin.api_key, mollie_standin.api_endpoint, timeout_seconds=0.3)
    try:
        mollie_standin.delay_next(3)
        with pytest.raises(ProviderUnavailable):
            provider.start_checkout(BASE_REQUEST)
    finally:
        provider.close()


def test_an_unreachable_mollie_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    provider = MollieProvider("test_nobodyhome", f"http://127.0.0.1:{port}", timeout_seconds=1.0)
    try:
        with pytest.raises(ProviderUnavailable):
            provider.fetch_status("tr_abc123")
    finally:
        provider.close()


def test_a_wrong_key_is_rejected_and_never_logged(
    mollie_standin: MollieStandIn,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong_key = "test_wrongkeyxyz0123456789"
    provider = MollieProvider(wrong_key, mollie_standin.api_endpoint)
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(ProviderRejected) as raised:
            provider.start_checkout(BASE_REQUEST)
        with pytest.raises(ProviderRejected):
            provider.fetch_status("tr_abc123")
    finally:
        provider.close()

    assert "401" in str(raised.value)
    assert wrong_key not in caplog.text
    assert wrong_key not in str(raised.value)


def test_a_malformed_key_is_refused_without_repeating_it() -> None:
    with pytest.raises(ValueError) as raised:
        MollieProvider("sk_live_secret123")
    assert "secret123" not in str(raised.value)


def test_an_open_payment_is_cancelled_and_a_paid_one_is_not_asked(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    checkout = provider.start_checkout(checkout_request())
    assert provider.cancel_checkout(checkout.external_id) is True
    assert provider.fetch_status(checkout.external_id).state == "cancelled"

    paid = paid_payment(provider, mollie_standin)
    mollie_standin.requests.clear()
    assert provider.cancel_checkout(paid) is False
    assert [entry[0] for entry in mollie_standin.requests] == ["GET"], "not cancelable: no DELETE is sent"


def test_failed_refunds_and_reversed_chargebacks_are_reported_as_undone(
    provider: MollieProvider,
    mollie_standin: MollieStandIn,  # noqa: F811
) -> None:
    paid = paid_payment(provider, mollie_standin)
    refund = provider.refund(paid, 200, "EUR", "refund-1")
    mollie_standin.fail_refund(refund.external_id)
    chargeback = mollie_standin.add_chargeback(paid, 1000)
    mollie_standin.reverse_chargeback(chargeback)

    status = provider.fetch_status(paid)

    assert status.reversals == ()
    assert set(status.undone_reversals) == {refund, Reversal(chargeback, "chargeback", 1000)}
