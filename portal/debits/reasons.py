"""SEPA reason codes of failed and reversed debits: what each means to a person, and what we offer next.

What we offer follows the reason (DOMAIN.md): missing money (AM04) asks for a payment now or a new date;
a refund the debtor asked their bank for (MD06) asks what is wrong; a closed or blocked account, or a mandate
the bank does not know (AC04, AC06, MD01, MD07, ...), asks for a new mandate through a first payment.
"""

from __future__ import annotations

from typing import Any, Literal

from portal.i18n import _l

Remedy = Literal["pay_or_retry", "tell_us", "new_mandate"]

_REASONS: dict[str, tuple[Any, Remedy]] = {
    "AM04": (_l("there was not enough money in the account"), "pay_or_retry"),
    "MS03": (_l("the bank gave no reason"), "pay_or_retry"),
    "MS02": (_l("the account holder refused the debit"), "tell_us"),
    "MD06": (_l("the account holder asked their bank for the money back"), "tell_us"),
    "SL01": (_l("the bank blocks direct debits from us on this account"), "new_mandate"),
    "AC01": (_l("the account number is wrong"), "new_mandate"),
    "AC04": (_l("the account has been closed"), "new_mandate"),
    "AC06": (_l("the account is blocked"), "new_mandate"),
    "AG01": (_l("the bank does not allow direct debits on this account"), "new_mandate"),
    "MD01": (_l("the bank knows no mandate for this debit"), "new_mandate"),
    "MD07": (_l("the account holder has died"), "new_mandate"),
}
UNKNOWN: tuple[Any, Remedy] = (_l("the bank refused the debit"), "pay_or_retry")


def reason_label(code: str) -> Any:
    """The reason as a lazy string: it takes the language of wherever it is shown (an e-mail in the customer's)."""
    return _REASONS.get(code.upper(), UNKNOWN)[0]


def reason_text(code: str) -> str:
    """The reason in the current language."""
    return str(reason_label(code))


def remedy_for(code: str | None) -> Remedy:
    return _REASONS.get((code or "").upper(), UNKNOWN)[1]


def known_codes() -> list[str]:
    return list(_REASONS)
