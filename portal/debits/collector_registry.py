"""Which collector carries out a mandate's debits: our own (the bank's file, the demo) or a provider's."""

from __future__ import annotations

from portal.debits.collectors import BankCollector, Collector, DemoCollector
from portal.debits.provider_collectors import provider_collector

_OWN: dict[str, Collector] = {"bank": BankCollector(), "demo": DemoCollector()}


def collector_for(name: str) -> Collector:
    """The collector of a mandate; KeyError when this deployment has none by that name.

    Mollie and Stripe collect through the payment providers configured for this deployment.
    """
    if name in _OWN:
        return _OWN[name]
    return provider_collector(name)
