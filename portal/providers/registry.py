"""Which providers this deployment has, built once per app from its configuration."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from portal.config import DEMO_DATABASE_URL
from portal.extensions import db
from portal.providers.base import PaymentProvider


def configured_provider_names(config: Any) -> list[str]:
    names = []
    if config.get("MOLLIE_API_KEY"):
        names.append("mollie")
    if config.get("STRIPE_SECRET_KEY"):
        names.append("stripe")
    demo = config.get("DEMO_PAYMENTS", "auto")
    # "auto" is for `make run` only: a deployment without keys must not let debtors pay with pretend money.
    if demo == "on" or (demo == "auto" and not names and config.get("DATABASE_URL") == DEMO_DATABASE_URL):
        names.append("demo")
    return names


def _build(app: Flask, name: str) -> PaymentProvider:
    config = app.config
    timeout = float(config["PROVIDER_TIMEOUT_SECONDS"])
    if name == "stripe":
        from portal.providers.stripe import StripeProvider

        return StripeProvider(
            config["STRIPE_SECRET_KEY"],
            config["STRIPE_WEBHOOK_SECRET"],
            api_base=config.get("STRIPE_API_BASE") or None,
            timeout_seconds=timeout,
        )
    if name == "mollie":
        from portal.providers.mollie import MollieProvider

        return MollieProvider(
            config["MOLLIE_API_KEY"], api_endpoint=config.get("MOLLIE_API_ENDPOINT") or None, timeout_seconds=timeout
        )
    if name == "demo":
        from portal.providers.demo import DemoProvider

        base = config["BASE_URL"]
        return DemoProvider(db.session, lambda checkout_id: f"{base}/demo-checkout/{checkout_id}")
    raise KeyError(name)


def get_provider(name: str, app: Flask | None = None) -> PaymentProvider:
    """The provider called ``name``; KeyError when this deployment does not have it."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if name not in configured_provider_names(app.config):
        raise KeyError(name)
    cache: dict[str, PaymentProvider] = app.extensions.setdefault("payment_providers", {})
    if name not in cache:
        cache[name] = _build(app, name)
    return cache[name]
