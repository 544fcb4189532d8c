"""Collectors through the payment providers that hold a mandate (Mollie, Stripe). Filled in by the providers'
collectors; until a deployment configures one, a mandate held there cannot be collected (KeyError)."""

from __future__ import annotations

from portal.debits.collectors import Collector


def provider_collector(name: str) -> Collector:
    raise KeyError(name)
