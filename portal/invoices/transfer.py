"""Bank-transfer instructions and the EPC ("GiroCode") QR code a banking app can scan."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import segno.helpers
from schwifty import IBAN

from portal.web import qr_code_svg

# EPC069-12: the remittance text may hold at most 140 characters; amounts at most 999,999,999.99.
EPC_MAX_TEXT = 140
EPC_MAX_CENTS = 99_999_999_999


@dataclass(frozen=True)
class TransferInstructions:
    beneficiary: str
    iban: str
    bic: str
    amount_cents: int
    currency: str
    reference: str

    @property
    def iban_grouped(self) -> str:
        return IBAN(self.iban).formatted

    @property
    def has_qr_code(self) -> bool:
        # The EPC QR code is defined for euro credit transfers only.
        return self.currency == "EUR" and 0 < self.amount_cents <= EPC_MAX_CENTS

    def qr_svg(self, title: str) -> str:
        return _epc_qr_svg(self.beneficiary, self.iban, self.bic, self.amount_cents, self.reference, title)


def transfer_reference(invoice_numbers: list[str], customer_ref: str) -> str:
    """The invoice numbers when they fit in one remittance line, else the customer reference."""
    joined = " ".join(invoice_numbers)
    return joined if invoice_numbers and len(joined) <= EPC_MAX_TEXT else customer_ref


@lru_cache(maxsize=1024)
def _epc_qr_svg(beneficiary: str, iban: str, bic: str, amount_cents: int, reference: str, title: str) -> str:
    # Cached: the same customer sees the same code on every visit, and generating one takes milliseconds.
    qr = segno.helpers.make_epc_qr(
        name=beneficiary[:70], iban=iban, amount=Decimal(amount_cents).scaleb(-2), text=reference, bic=bic
    )
    return qr_code_svg(qr, title)
