"""What Stripe's SEPA debits say, in our terms: the SEPA reason code of a failure or a dispute, the mandate a
debit was collected on, and the account it came from (Stripe gives only the country and last four digits)."""

from __future__ import annotations

from typing import Any

# Stripe's failure codes of a bank debit (the charge's ``failure_code``, or the payment intent's
# ``last_payment_error``) as the SEPA reason codes our failed-debit messages follow (portal/debits/reasons.py).
# Sources: Stripe's list of bank debit decline codes and the EPC's guidance on SEPA reason codes.
# ``debit_not_authorized``: the debtor told their bank they did not authorise the debit; we ask what is wrong
# (MD06's "tell us") rather than presume the mandate is gone. Anything unknown is MS03, "no reason given".
SEPA_FAILURE_CODES = {
    "insufficient_funds": "AM04",
    "account_closed": "AC04",
    "bank_account_closed": "AC04",
    "account_frozen": "AC06",
    "bank_account_frozen": "AC06",
    "bank_account_restricted": "AC06",
    "bank_account_unusable": "AG01",
    "invalid_account_number": "AC01",
    "bank_account_invalid_details": "AC01",
    "no_account": "AC01",
    "debit_not_authorized": "MD06",
    "recipient_deceased": "MD07",
    "account_holder_deceased": "MD07",
    "refer_to_customer": "MS02",
}
NO_REASON_GIVEN = "MS03"
# A dispute on a SEPA debit is the debtor asking their bank for the money back (MD06), unless Stripe names
# another cause.
REFUND_REQUESTED = "MD06"
DISPUTE_REASONS = {
    "insufficient_funds": "AM04",
    "incorrect_account_details": "AC01",
    "bank_cannot_process": NO_REASON_GIVEN,
}


def sepa_reason_of_failure(intent: dict[str, Any]) -> str:
    """The SEPA reason code of a failed debit: the charge's failure code first (the bank's answer), then the
    payment intent's last error."""
    charge = intent.get("latest_charge")
    error = intent.get("last_payment_error") or {}
    candidates = [
        charge.get("failure_code") if isinstance(charge, dict) else None,
        error.get("decline_code"),
        error.get("code"),
    ]
    for code in candidates:
        if code in SEPA_FAILURE_CODES:
            return SEPA_FAILURE_CODES[code]
    return NO_REASON_GIVEN


def _sepa_details(intent: dict[str, Any]) -> dict[str, Any]:
    """The SEPA debit details of the payment intent's latest charge (expanded), or nothing."""
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict):
        return {}
    return (charge.get("payment_method_details") or {}).get("sepa_debit") or {}


def saved_mandate_of(intent: dict[str, Any]) -> str | None:
    """The SEPA mandate a debit was collected on (or a first payment saved): on the charge's method details."""
    return str_or_none(_sepa_details(intent).get("mandate"))


def account_hint_of(intent: dict[str, Any]) -> str | None:
    """Stripe never gives the whole IBAN: the country and last four digits of the account a debit came from."""
    details = _sepa_details(intent)
    country, last4 = str_or_none(details.get("country")), str_or_none(details.get("last4"))
    return f"{country}** **** {last4}" if country and last4 else None


def str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
