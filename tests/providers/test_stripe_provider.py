"""StripeProvider through the real ``stripe`` SDK against the local stand-in: no database, no app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from portal.providers.base import (
    CheckoutRequest,
    InvalidWebhook,
    ProviderRejected,
    ProviderUnavailable,
    Reversal,
    WebhookNotice,
)
from portal.providers.stripe import StripeProvider
from tests.fixtures.stripe_standin import StripeStandin, parse_form

# Not registered in tests/conftest.py (yet): bound here so pytest collects the fixture for this module.

REQUEST = CheckoutRequest(
    payment_id=42,
    amount_cents=12_50,
    currency="EUR",
    method="ideal",
    description="Invoice 2025-0007",
    locale="nl",
    return_url="http://localhost/pay/return/abc",
    webhook_url="http://localhost/webhooks/stripe",
    customer_ref="CUST-7",
    customer_name="A. Debtor",
    customer_email="debtor@example.org",
    idempotency_key="payment-42",
)


@pytest.fixture()
def provider(stripe_standin: StripeStandin) -> Iterator[StripeProvider]:
    provider = StripeProvider(
        stripe_standin.secret_key, stripe_standin.webhook_secret, api_base=stripe_standin.base_url, timeout_seconds=2
    )
    yield provider
    provider.close()


def _api_calls(standin: StripeStandin) -> list[tuple[str, str]]:
    return [(method, path) for method, path, _, _ in standin.requests]


# -- the stand-in's form parser ----------------------------------------------------------------------------


def test_parse_form_builds_nested_dicts_and_lists() -> None:
    form = parse_form(
        "line_items[0][price_data][currency]=eur&line_items[0][quantity]=1&line_items[1][quantity]=2"
        "&expand[]=a&expand[]=b&metadata[0]=zero&payment_method_types[0]=card&mode=payment"
    )
    assert form == {
        "line_items": [{"price_data": {"currency": "eur"}, "quantity": "1"}, {"quantity": "2"}],
        "expand": ["a", "b"],
        "metadata": {"0": "zero"},
        "payment_method_types": ["card"],
        "mode": "payment",
    }


# -- checkout ----------------------------------------------------------------------------------------------


def test_start_checkout_sends_the_session_in_stripes_form(
    provider: StripeProvider,
    stripe_standin: StripeStandin,
) -> None:
    checkout = provider.start_checkout(REQUEST)

    assert checkout.external_id.startswith("cs_test_")
    assert checkout.redirect_url == f"{stripe_standin.base_url}/pay/{checkout.external_id}"
    method, path, form, headers = stripe_standin.requests[-1]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert headers["idempotency-key"] == "payment-42"
    assert headers["authorization"] == f"Bearer {stripe_standin.secret_key}"
    assert form["mode"] == "payment"
    assert form["payment_method_types"] == ["ideal"]
    assert form["line_items"] == [
        {
            "price_data": {"currency": "eur", "unit_amount": "1250", "product_data": {"name": "Invoice 2025-0007"}},
            "quantity": "1",
        }
    ]
    assert form["success_url"] == form["cancel_url"] == REQUEST.return_url
    assert form["client_reference_id"] == "42"
    assert form["metadata"] == {"payment_id": "42", "customer_ref": "CUST-7"}
    assert form["payment_intent_data"] == {"metadata": {"payment_id": "42", "customer_ref": "CUST-7"}}
    assert form["customer_email"] == "debtor@example.org"
    assert form["locale"] == "nl"


@pytest.mark.parametrize(
    ("method", "stripe_type"),
    [("creditcard", "card"), ("directdebit", "sepa_debit"), ("bancontact", "bancontact"), ("paypal", "paypal")],
)
def test_start_checkout_uses_stripes_method_names(
    provider: StripeProvider,
    stripe_standin: StripeStandin,
    method: str,
    stripe_type: str,
) -> None:
    provider.start_checkout(replace(REQUEST, method=method, locale="en", customer_email=None))

    form = stripe_standin.requests[-1][2]
    assert form["payment_method_types"] == [stripe_type]
    assert form["locale"] == "en"
    assert "customer_email" not in form


def test_same_idempotency_key_finds_the_same_session(
    provider: StripeProvider,
    stripe_standin: StripeStandin,
) -> None:
    first = provider.start_checkout(REQUEST)
    again = provider.start_checkout(REQUEST)
    other = provider.start_checkout(replace(REQUEST, idempotency_key="payment-42-retry-1"))

    assert again == first
    assert other.external_id != first.external_id
    assert len(stripe_standin.sessions) == 2


def test_same_idempotency_key_with_other_parameters_is_rejected(provider: StripeProvider) -> None:
    provider.start_checkout(REQUEST)
    with pytest.raises(ProviderRejected):
        provider.start_checkout(replace(REQUEST, amount_cents=99_00))


def test_methods_and_currencies() -> None:
    provider = StripeProvider("sk_test_x", "whsec_x")
    try:
        assert set(provider.methods) == {"creditcard", "ideal", "bancontact", "directdebit", "paypal"}
        assert provider.supports("creditcard", 50, "USD")
        assert not provider.supports("creditcard", 49, "EUR")
        assert not provider.supports("ideal", 1000, "USD")
        assert provider.supports("directdebit", 1000, "EUR")
    finally:
        provider.close()


def test_stripe_refusing_the_currency_is_a_rejection(provider: StripeProvider) -> None:
    with pytest.raises(ProviderRejected, match="currency"):
        provider.start_checkout(replace(REQUEST, currency="USD"))


def test_unknown_method_is_rejected_without_calling_stripe(
    provider: StripeProvider,
    stripe_standin: StripeStandin,
) -> None:
    with pytest.raises(ProviderRejected):
        provider.start_checkout(replace(REQUEST, method="banktransfer"))
    assert stripe_standin.requests == []


# -- status ------------------------------------------------------------------------------------------------


def test_open_session(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    checkout = provider.start_checkout(REQUEST)

    status = provider.fetch_status(checkout.external_id)

    assert status.external_id == checkout.external_id
    assert status.state == "open"
    assert (status.amount_cents, status.currency, status.method, status.payment_id) == (1250, "EUR", "ideal", 42)
    assert status.secondary_reference is None
    assert status.reversals == ()
    _, path, form, _ = stripe_standin.requests[-1]
    assert path == f"/v1/checkout/sessions/{checkout.external_id}"
    assert form["expand"] == ["payment_intent", "payment_intent.latest_charge"]


def test_paid_session(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    checkout = provider.start_checkout(replace(REQUEST, method="creditcard"))
    session = stripe_standin.complete(checkout.external_id)

    status = provider.fetch_status(checkout.external_id)

    assert status.state == "paid"
    assert status.method == "creditcard"
    assert status.secondary_reference == session["payment_intent"]
    assert status.failure_reason is None
    assert status.reversals == ()
    assert _api_calls(stripe_standin)[-2:] == [("GET", "/v1/refunds"), ("GET", "/v1/disputes")]
    assert stripe_standin.requests[-1][2]["payment_intent"] == session["payment_intent"]


def test_delayed_debit_is_pending_then_paid(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    checkout = provider.start_checkout(replace(REQUEST, method="directdebit"))

    stripe_standin.complete(checkout.external_id, payment_status="unpaid", intent_status="processing")
    pending = provider.fetch_status(checkout.external_id)
    stripe_standin.complete(checkout.external_id, payment_status="paid", intent_status="succeeded")
    paid = provider.fetch_status(checkout.external_id)

    assert (pending.state, pending.method) == ("pending", "directdebit")
    assert paid.state == "paid"
    assert pending.secondary_reference == paid.secondary_reference is not None


def test_failed_debit_carries_the_reason(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    checkout = provider.start_checkout(replace(REQUEST, method="directdebit"))
    stripe_standin.complete(checkout.external_id, payment_status="unpaid", intent_status="processing")
    stripe_standin.complete(
        checkout.external_id,
        payment_status="unpaid",
        intent_status="requires_payment_method",
        failure_code="insufficient_funds",
    )

    status = provider.fetch_status(checkout.external_id)

    assert status.state == "failed"
    assert status.failure_reason == "insufficient_funds"


def test_expired_session(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    checkout = provider.start_checkout(REQUEST)
    stripe_standin.expire(checkout.external_id)

    status = provider.fetch_status(checkout.external_id)

    assert status.state == "expired"
    assert status.reversals == ()
    # No payment intent, so nothing to list reversals for.
    assert _api_calls(stripe_standin)[-1] == ("GET", f"/v1/checkout/sessions/{checkout.external_id}")


def test_unknown_session_is_rejected(provider: StripeProvider) -> None:
    with pytest.raises(ProviderRejected, match="resource_missing"):
        provider.fetch_status("cs_test_nonexistent")


# -- refunds and disputes ----------------------------------------------------------------------------------


def test_refund_then_status_lists_it(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    checkout = provider.start_checkout(REQUEST)
    session = stripe_standin.complete(checkout.external_id)

    reversal = provider.refund(checkout.external_id, 500, "EUR", "refund-42-1")

    assert reversal.kind == "refund"
    assert reversal.amount_cents == 500
    assert reversal.external_id.startswith("re_")
    method, path, form, headers = stripe_standin.requests[-1]
    assert (method, path) == ("POST", "/v1/refunds")
    assert form == {"payment_intent": session["payment_intent"], "amount": "500"}
    assert headers["idempotency-key"] == "refund-42-1"
    assert provider.fetch_status(checkout.external_id).reversals == (reversal,)


def test_refund_retry_with_same_key_refunds_once(
    provider: StripeProvider,
    stripe_standin: StripeStandin,
) -> None:
    checkout = provider.start_checkout(REQUEST)
    stripe_standin.complete(checkout.external_id)

    first = provider.refund(checkout.external_id, 500, "EUR", "refund-42-1")
    again = provider.refund(checkout.external_id, 500, "EUR", "refund-42-1")

    assert again == first
    assert len(stripe_standin.refunds) == 1


def test_refund_of_unpaid_session_is_rejected(provider: StripeProvider) -> None:
    checkout = provider.start_checkout(REQUEST)
    with pytest.raises(ProviderRejected):
        provider.refund(checkout.external_id, 500, "EUR", "refund-42-1")


def test_refund_beyond_the_amount_is_rejected(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    checkout = provider.start_checkout(REQUEST)
    stripe_standin.complete(checkout.external_id)
    with pytest.raises(ProviderRejected, match="amount_too_large"):
        provider.refund(checkout.external_id, 2000, "EUR", "refund-42-1")


def test_failed_refunds_and_won_disputes_are_not_reversals(
    provider: StripeProvider,
    stripe_standin: StripeStandin,
) -> None:
    checkout = provider.start_checkout(REQUEST)
    stripe_standin.complete(checkout.external_id)
    bounced = provider.refund(checkout.external_id, 200, "EUR", "refund-42-1")
    kept = provider.refund(checkout.external_id, 300, "EUR", "refund-42-2")
    stripe_standin.set_refund_status(bounced.external_id, "failed")
    lost = stripe_standin.dispute(checkout.external_id, 1250, status="lost")
    won = stripe_standin.dispute(checkout.external_id, 1250, status="won")
    inquiry = stripe_standin.dispute(checkout.external_id, 1250, status="warning_needs_response")

    reversals = provider.fetch_status(checkout.external_id).reversals

    assert set(reversals) == {kept, Reversal(external_id=lost["id"], kind="chargeback", amount_cents=1250)}
    assert won["id"] not in {r.external_id for r in reversals}
    assert inquiry["id"] not in {r.external_id for r in reversals}


def test_dispute_is_a_chargeback(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    checkout = provider.start_checkout(REQUEST)
    stripe_standin.complete(checkout.external_id)
    dispute = stripe_standin.dispute(checkout.external_id, 1250)

    status = provider.fetch_status(checkout.external_id)

    # Still paid as far as Stripe's session goes; the chargeback is what the core books against it.
    assert status.state == "paid"
    assert status.reversals == (Reversal(external_id=dispute["id"], kind="chargeback", amount_cents=1250),)


def test_reversals_are_read_across_pages(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    checkout = provider.start_checkout(REQUEST)
    stripe_standin.complete(checkout.external_id)
    refunds = {provider.refund(checkout.external_id, 1, "EUR", f"refund-{n}") for n in range(105)}

    reversals = provider.fetch_status(checkout.external_id).reversals

    assert set(reversals) == refunds
    assert [path for method, path in _api_calls(stripe_standin)[-3:]] == ["/v1/refunds", "/v1/refunds", "/v1/disputes"]


# -- webhooks ----------------------------------------------------------------------------------------------


def test_session_webhook_names_the_session_and_our_payment(
    provider: StripeProvider,
    stripe_standin: StripeStandin,
) -> None:
    checkout = provider.start_checkout(REQUEST)
    session = stripe_standin.complete(checkout.external_id)
    body, headers = stripe_standin.event("checkout.session.completed", session)

    assert provider.parse_webhook(body, headers) == WebhookNotice(reference=checkout.external_id, payment_id=42)


def test_webhook_header_lookup_ignores_case(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    checkout = provider.start_checkout(REQUEST)
    body, headers = stripe_standin.event("checkout.session.expired", stripe_standin.expire(checkout.external_id))
    lowered = {key.lower(): value for key, value in headers.items()}

    assert provider.parse_webhook(body, lowered) == WebhookNotice(reference=checkout.external_id, payment_id=42)


def test_reversal_and_intent_webhooks_name_the_payment_intent(
    provider: StripeProvider,
    stripe_standin: StripeStandin,
) -> None:
    checkout = provider.start_checkout(REQUEST)
    intent_id = stripe_standin.complete(checkout.external_id)["payment_intent"]
    provider.refund(checkout.external_id, 100, "EUR", "refund-42-1")
    refund = next(iter(stripe_standin.refunds.values()))
    dispute = stripe_standin.dispute(checkout.external_id, 1250)
    intent = stripe_standin.intents[intent_id]
    charge = {"id": intent["latest_charge"], "object": "charge", "payment_intent": intent_id, "refunded": True}

    for event_type, obj in [
        ("charge.refunded", charge),
        ("charge.refund.updated", refund),
        ("refund.created", refund),
        ("charge.dispute.created", dispute),
        ("charge.dispute.closed", dispute),
        ("payment_intent.succeeded", intent),
        ("payment_intent.payment_failed", intent),
    ]:
        body, headers = stripe_standin.event(event_type, obj)
        notice = provider.parse_webhook(body, headers)
        assert notice is not None, event_type
        assert notice.reference == intent_id, event_type
    assert provider.parse_webhook(*stripe_standin.event("payment_intent.succeeded", intent)).payment_id == 42


def test_other_webhooks_are_not_ours(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    body, headers = stripe_standin.event("customer.created", {"id": "cus_1", "object": "customer"})
    assert provider.parse_webhook(body, headers) is None


def test_tampered_webhook_is_invalid(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    body, headers = stripe_standin.event("checkout.session.completed", {"id": "cs_test_1", "client_reference_id": "42"})
    tampered = body.replace(b'"42"', b'"43"')
    assert tampered != body
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(tampered, headers)


def test_webhook_signed_with_another_secret_is_invalid(
    provider: StripeProvider,
    stripe_standin: StripeStandin,
) -> None:
    body, headers = stripe_standin.event("checkout.session.completed", {"id": "cs_test_1"}, secret="whsec_other")
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(body, headers)


def test_old_webhook_is_invalid(provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    body, headers = stripe_standin.event(
        "checkout.session.completed", {"id": "cs_test_1"}, timestamp=int(time.time()) - 301
    )
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(body, headers)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Stripe-Signature": ""}, {"Stripe-Signature": "garbage"}, {"Stripe-Signature": "t=abc,v1=00"}],
)
def test_webhook_without_a_usable_signature_is_invalid(provider: StripeProvider, headers: dict[str, str]) -> None:
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(b'{"object": "event"}', headers)


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b'{"object": "v2.core.event"}', b"[]"])
def test_signed_but_unreadable_webhook_is_invalid(
    provider: StripeProvider,
    stripe_standin: StripeStandin,
    body: bytes,
) -> None:
    import stripe

    signature = stripe.WebhookSignature.generate_signature_header(
        body.decode("utf-8", errors="replace"), stripe_standin.webhook_secret
    )
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(body, {"Stripe-Signature": signature})


# -- failures ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 429, 409])
def test_server_errors_and_rate_limits_are_unavailable(
    provider: StripeProvider,
    stripe_standin: StripeStandin,
    status: int,
) -> None:
    stripe_standin.fail_next(1, status=status)
    with pytest.raises(ProviderUnavailable):
        provider.start_checkout(REQUEST)
    # No retry inside the SDK: the caller retries, with the same idempotency key.
    assert len(stripe_standin.requests) == 1
    assert provider.start_checkout(REQUEST).external_id in stripe_standin.sessions


def test_slow_answer_beyond_the_timeout_is_unavailable(stripe_standin: StripeStandin) -> None:
    provider = StripeProvider(
        stripe_standin.secret_key, stripe_standin.webhook_secret, api_base=stripe_standin.base_url, timeout_seconds=0.2
    )
    try:
        stripe_standin.delay_next(1.0)
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable):
            provider.start_checkout(REQUEST)
        assert time.monotonic() - started < 0.9
    finally:
        provider.close()


def test_unreachable_stripe_is_unavailable() -> None:
    provider = StripeProvider("sk_test_x", "whsec_x", api_base="http://127.0.0.1:9", timeout_seconds=1)
    try:
        with pytest.raises(ProviderUnavailable):
            provider.fetch_status("cs_test_1")
    finally:
        provider.close()


def test_wrong_key_is_rejected_and_not_logged(
    stripe_standin: StripeStandin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong_key = "sk_test_wrong_key_abcdefghijkl"
    provider = StripeProvider(wrong_key, stripe_standin.webhook_secret, api_base=stripe_standin.base_url)
    try:
        with caplog.at_level("DEBUG"), pytest.raises(ProviderRejected) as raised:
            provider.start_checkout(REQUEST)
    finally:
        provider.close()
    assert "wrong_key" not in str(raised.value)
    assert "payment 42" in caplog.text
    assert "wrong_key" not in "".join(r.getMessage() for r in caplog.records if r.name.startswith("portal"))


def test_undone_refunds_and_won_disputes_are_reported_as_undone(
    provider: StripeProvider, stripe_standin: StripeStandin
) -> None:
    checkout = provider.start_checkout(REQUEST)
    stripe_standin.complete(checkout.external_id)
    bounced = provider.refund(checkout.external_id, 200, "EUR", "refund-42-1")
    stripe_standin.fail_refund(bounced.external_id)
    won = stripe_standin.win_dispute(stripe_standin.dispute(checkout.external_id, 1250)["id"])
    stripe_standin.dispute(checkout.external_id, 1250, status="warning_closed")  # an inquiry never took money

    status = provider.fetch_status(checkout.external_id)

    assert status.reversals == ()
    assert set(status.undone_reversals) == {bounced, Reversal(won["id"], "chargeback", 1250)}


def test_an_open_session_is_expired_and_a_completed_one_is_not(
    provider: StripeProvider, stripe_standin: StripeStandin
) -> None:
    open_one = provider.start_checkout(REQUEST)
    assert provider.cancel_checkout(open_one.external_id) is True
    assert provider.fetch_status(open_one.external_id).state == "expired"

    paid = provider.start_checkout(replace(REQUEST, idempotency_key="payment-43", payment_id=43))
    stripe_standin.complete(paid.external_id)
    assert provider.cancel_checkout(paid.external_id) is False
    assert provider.fetch_status(paid.external_id).state == "paid"
