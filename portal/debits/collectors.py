"""Who collects a due debit: the small interface, the creditor's own bank, and the demo collector.

The portal owns the schedule and decides what is collected when; a collector only carries out one debit.
The bank collector hands debits over through the pain.008 file of their date (``portal.debits.bank``), so
its ``collect`` merely accepts them; Mollie and Stripe create a payment on the mandate they hold. A
collector never touches our database, and raises ProviderUnavailable or ProviderRejected, never SDK errors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from typing import Literal

from schwifty import IBAN

from portal.providers.base import ProviderRejected

CollectorState = Literal["pending", "paid", "failed"]


@dataclass(frozen=True)
class DebitOrder:
    debit_id: int | None  # None for a payment plan's instalment, which has no Debit row
    payment_id: int  # our Payment for this attempt; providers echo it back in metadata
    end_to_end_id: str  # carried through the bank's file and its returns
    amount_cents: int
    currency: str
    due_on: date
    mandate_reference: str  # the UMR
    mandate_signed_on: date
    debtor_name: str
    iban: str
    bic: str | None
    description: str
    idempotency_key: str  # the same for a retry of the same attempt, so it is never collected twice
    provider_mandate_id: str | None = None
    provider_customer_id: str | None = None


@dataclass(frozen=True)
class CollectorAnswer:
    state: CollectorState
    external_id: str  # the provider's payment id, or the end-to-end id where we keep the record ourselves
    failure_code: str | None = None  # the bank's reason code when it failed at once


class Collector(ABC):
    name: str  # the mandate's ``collector``
    payment_provider: str  # what our Payment rows of its debits name as provider
    # TARGET days before the debit date a debit is handed over (the bank wants its file a day or two ahead).
    lead_days: int = 0
    # Whether its payments settle only when we say so (the bank's, on the debit date), not when a provider does.
    settles_on_due_date: bool = False

    @abstractmethod
    def collect(self, order: DebitOrder) -> CollectorAnswer:
        """Collect ``order``, or find the collection the same idempotency key already made."""


class BankCollector(Collector):
    """The creditor's own bank: due debits go into the pain.008 file of their date, which staff download and
    upload to the bank. They count as paid on the debit date; the bank's returns file undoes those that failed."""

    name = "bank"
    payment_provider = "bank"
    lead_days = 2
    settles_on_due_date = True

    def collect(self, order: DebitOrder) -> CollectorAnswer:
        return CollectorAnswer(state="pending", external_id=order.end_to_end_id)


def _demo_iban(account: str) -> str:
    return str(IBAN.generate("NL", bank_code="DEMO", account_code=account))


# The demo's accounts that fail, with the reason the bank gives: the demo data uses them, so ``make run``
# shows what a debtor sees after each kind of failure.
DEMO_FAILING_IBANS: dict[str, str] = {
    _demo_iban("0000000404"): "AM04",
    _demo_iban("0000000606"): "MD06",
    _demo_iban("0000000104"): "AC04",
}


class DemoCollector(Collector):
    """Collects on the date, at once; the demo accounts above fail with their reason code."""

    name = "demo"
    payment_provider = "demo-debit"

    def collect(self, order: DebitOrder) -> CollectorAnswer:
        if order.amount_cents <= 0:
            raise ProviderRejected("nothing to collect")
        code = DEMO_FAILING_IBANS.get(order.iban.replace(" ", "").upper())
        if code is not None:
            return CollectorAnswer(state="failed", external_id=order.end_to_end_id, failure_code=code)
        return CollectorAnswer(state="paid", external_id=order.end_to_end_id)
