"""The ``disputes.*`` settings: deadlines in business days, who may credit how much, and ready answers."""

from __future__ import annotations

from portal.i18n import _l
from portal.settings.declaration import Setting
from portal.settings.validators import amount_cents, text_validator, whole_number

# portal/disputes reads them.
DISPUTE_PREFIX = "disputes."
DISPUTE_FIRST_RESPONSE_DAYS_KEY = "disputes.first_response_days"
DISPUTE_RESOLUTION_DAYS_KEY = "disputes.resolution_days"
DISPUTE_SUPERVISOR_CREDIT_ABOVE_KEY = "disputes.supervisor_credit_above"
DISPUTE_CANNED_REPLIES_PREFIX = "disputes.canned_replies_"  # + a language: en, nl

DISPUTE_SETTINGS: list[Setting] = [
    Setting(
        DISPUTE_FIRST_RESPONSE_DAYS_KEY,
        _l("First answer to a dispute within"),
        _l("Business days from the day a customer disputes an invoice to staff's first answer. The customer is told."),
        2,
        whole_number(1, 20),
    ),
    Setting(
        DISPUTE_RESOLUTION_DAYS_KEY,
        _l("Decision on a dispute within"),
        _l("Business days from the day a customer disputes an invoice to the decision. The customer is told."),
        10,
        whole_number(1, 60),
    ),
    Setting(
        DISPUTE_SUPERVISOR_CREDIT_ABOVE_KEY,
        _l("Credit notes that need a supervisor"),
        _l("A dispute resolved with a credit note above this amount needs a supervisor."),
        25000,
        amount_cents(0, 100_000_000),
    ),
    *(
        Setting(
            f"{DISPUTE_CANNED_REPLIES_PREFIX}{_language}",
            _label,
            _l(
                "Ready answers staff can start a reply from. Separate answers with a line of three dashes (---); "
                "the first line of each is its name. Keep them in the same order in both languages."
            ),
            "",
            text_validator(10_000, required=False, multiline=True),
        )
        for _language, _label in (("en", _l("Ready answers in English")), ("nl", _l("Ready answers in Dutch")))
    ),
]
