"""Bank-transfer instructions and the EPC ("GiroCode") QR code a banking app can scan."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import segno.helpers
from schwifty import IBAN

# EPC069-12: the remittance text may hold at most 140 characters; amounts at most 999,999,999.99.
EPC_MAX_TEXT = 140
EPC_MAX_CENTS = 99_999_999_999
EPC_MAX_NAME = 70
# Part of every ETag: a change to how the code is drawn (scale, border, colours) must change it too.
_QR_DRAWING = "svg-4-4-v1"


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
        return _grouped(self.iban)

    @property
    def has_qr_code(self) -> bool:
        # The EPC QR code is defined for euro credit transfers only.
        return self.currency == "EUR" and 0 < self.amount_cents <= EPC_MAX_CENTS

    @property
    def qr_etag(self) -> str:
        """Names what the QR code pays, without drawing it: the page puts it in the image's address, so a
        browser that kept an older code (another amount) asks for the new one."""
        fields = [_QR_DRAWING, self.beneficiary[:EPC_MAX_NAME], self.iban, self.bic, str(self.amount_cents)]
        return hashlib.sha256("\n".join([*fields, self.reference]).encode()).hexdigest()[:32]

    def qr_svg(self) -> bytes:
        """The EPC QR code as an SVG document (served as an image of its own, not inline in the page)."""
        return _epc_qr_svg(self.beneficiary, self.iban, self.bic, self.amount_cents, self.reference)


@lru_cache(maxsize=64)
def _grouped(iban: str) -> str:
    # Cached: it is the creditor's IBAN on every page, and schwifty validates it (country, bank, checksum)
    # again on every parse.
    return IBAN(iban).formatted


def transfer_reference(invoice_numbers: list[str], customer_ref: str) -> str:
    """The invoice numbers when they fit in one remittance line, else the customer reference."""
    joined = " ".join(invoice_numbers)
    return joined if invoice_numbers and len(joined) <= EPC_MAX_TEXT else customer_ref


@lru_cache(maxsize=1024)
def _epc_qr_svg(beneficiary: str, iban: str, bic: str, amount_cents: int, reference: str) -> bytes:
    # Cached: the same customer sees the same code on every visit, and drawing one takes milliseconds (most of
    # them segno spends choosing the mask; make_epc_qr offers no public way to fix it).
    qr = segno.helpers.make_epc_qr(
        name=beneficiary[:EPC_MAX_NAME], iban=iban, amount=Decimal(amount_cents).scaleb(-2), text=reference, bic=bic
    )
    out = io.BytesIO()
    # omitsize: a viewBox instead of a fixed size, so the <img> that shows it decides how large it is.
    qr.save(out, kind="svg", scale=4, border=4, dark="#000", light="#fff", omitsize=True)
    return out.getvalue()
