"""Every setting by its key (SETTINGS, get); the company details and the payment, contact and debit ones declared.

Each setting is declared once: its key, label and help text, default, and validator (see validators.py). The
``plans.*`` and ``disputes.*`` settings are declared in plan_settings.py and dispute_settings.py, beside the forms
of their own that their sections have (plan_forms.py, dispute_forms.py).

Defaults are the demo creditor and today's policies, so ``make run`` needs nothing and a deployment that
never changed a setting behaves as before. The migration seeds nothing: a key without versions has its default.
"""

from __future__ import annotations

from typing import Any

from portal.i18n import _l
from portal.settings.declaration import Setting
from portal.settings.dispute_settings import DISPUTE_SETTINGS
from portal.settings.plan_settings import PLAN_SETTINGS
from portal.settings.validators import (
    SettingProblem,
    contact_hours,
    days_of_month,
    minimum_per_currency,
    one_of,
    parse_bic,
    parse_creditor_identifier,
    parse_email,
    parse_iban,
    parse_minimum_cents,
    parse_phone,
    parse_vat_number,
    payment_methods,
    text_validator,
    whole_number,
)

__all__ = [
    "CONTACT_HOURS_KEY",
    "DEBIT_ALLOWED_DAYS_KEY",
    "DEBIT_CHANGES_PER_YEAR_KEY",
    "DEBIT_FAILED_GRACE_DAYS_KEY",
    "DEBIT_NOTICE_DAYS_KEY",
    "DEBIT_RETRY_WINDOW_DAYS_KEY",
    "CREDITOR_PREFIX",
    "METHODS_KEY",
    "PAID_TWICE_CHOICES",
    "PAID_TWICE_KEY",
    "PARTIAL_MINIMUM_KEY",
    "SECTIONS",
    "SETTINGS",
    "Setting",
    "SettingProblem",
    "get",
    "keys_with_prefix",
    "parse_minimum_cents",
]

CREDITOR_PREFIX = "creditor."
PARTIAL_MINIMUM_KEY = "payments.partial_payment_minimum"
METHODS_KEY = "payments.methods"
CONTACT_HOURS_KEY = "contact.hours"
PAID_TWICE_KEY = "payments.paid_twice"
PAID_TWICE_CHOICES = ("refund", "credit")
DEBIT_NOTICE_DAYS_KEY = "debits.notice_days"
DEBIT_ALLOWED_DAYS_KEY = "debits.allowed_days"
DEBIT_CHANGES_PER_YEAR_KEY = "debits.changes_per_year"
DEBIT_FAILED_GRACE_DAYS_KEY = "debits.failed_grace_days"
DEBIT_RETRY_WINDOW_DAYS_KEY = "debits.retry_window_days"


SECTIONS: dict[str, Any] = {
    "creditor": _l("Company details"),
    "payments": _l("Payments"),
    "contact": _l("Contact hours"),
    "debits": _l("Direct debit"),
    "plans": _l("Payment plans"),
    "disputes": _l("Disputes"),
}

_DECLARED = [
    Setting(
        "creditor.name",
        _l("Company name"),
        _l("As on the invoices and in the bank-transfer details (at most 70 characters, as the QR code allows)."),
        "Zonnig Energie B.V.",
        text_validator(70),
    ),
    Setting(
        "creditor.iban",
        _l("IBAN"),
        _l("The account debtors transfer their money to."),
        "NL91ABNA0417164300",
        parse_iban,
    ),
    Setting("creditor.bic", _l("BIC"), _l("The code of the bank that holds this account."), "ABNANL2A", parse_bic),
    Setting(
        "creditor.identifier",
        _l("SEPA creditor identifier"),
        _l("Needed to collect by direct debit. Leave it empty if you do not."),
        # The demo identifier with check digits that add up (EPC262), so saving the form unchanged works.
        "NL57ZZZ999999999999",
        parse_creditor_identifier,
    ),
    Setting(
        "creditor.email",
        _l("E-mail address for customers"),
        _l("Shown on every page and in every e-mail. E-mails are sent from it too, unless PORTAL_SMTP_FROM is set."),
        "klantenservice@zonnig.example",
        parse_email,
    ),
    Setting(
        "creditor.phone",
        _l("Phone number"),
        _l("Shown on every page and in every e-mail."),
        "+31 20 123 4567",
        parse_phone,
    ),
    Setting(
        "creditor.address",
        _l("Address"),
        _l("Street, postcode and town. Each line becomes a line on the invoice PDF."),
        "Keizersgracht 1, 1015 AA Amsterdam",
        text_validator(300, multiline=True),
    ),
    Setting(
        "creditor.vat_number",
        _l("VAT number"),
        _l("Printed at the foot of the invoice PDF. Leave it empty if you have none."),
        "NL999999999B01",
        parse_vat_number,
    ),
    Setting(
        "creditor.legal_text",
        _l("Footer text"),
        _l(
            "An optional short line at the foot of every page and e-mail, such as your Chamber of Commerce "
            "number or where to find your terms."
        ),
        "",
        text_validator(300, required=False),
    ),
    Setting(
        PARTIAL_MINIMUM_KEY,
        _l("Smallest part-payment"),
        _l("The least a debtor may pay on part of their invoices, per currency. Empty: whole invoices only."),
        {"EUR": 1000},
        minimum_per_currency,
        structured=True,
        example='{"EUR": "10.00"}',
    ),
    Setting(
        METHODS_KEY,
        _l("Payment methods"),
        _l("Which ways to pay are offered, and through which payment provider."),
        # Nothing chosen yet: every method is on, through the first configured provider that offers it.
        {},
        payment_methods,
        structured=True,
        example='{"ideal": {"provider": "mollie", "enabled": true}}',
    ),
    Setting(
        PAID_TWICE_KEY,
        _l("When invoices are paid twice"),
        _l(
            "A debtor who opens two payments for the same invoices and completes both has paid twice. We end the "
            "other open payment when a new one starts, but a payment can still come through. Pay the second "
            "payment back automatically, or keep it as credit on the customer's account. The debtor is told which."
        ),
        "refund",
        one_of(*PAID_TWICE_CHOICES),
    ),
    Setting(
        CONTACT_HOURS_KEY,
        _l("When we may contact customers"),
        _l(
            "These are the customer's local times. Public holidays in the customer's country (NL, BE) are always "
            "skipped, whatever you fill in here."
        ),
        # Consumer-friendly hours the Dutch collection codes of conduct hold to; no contact on Sundays.
        {"weekdays": "08:00-21:00", "saturday": "09:00-17:00", "sunday": None},
        contact_hours,
        structured=True,
        example='{"weekdays": "08:00-21:00", "saturday": "09:00-17:00", "sunday": null}',
    ),
    Setting(
        DEBIT_NOTICE_DAYS_KEY,
        _l("Notice before each debit"),
        _l(
            "Calendar days between the pre-notification and the debit: 14 by law, unless your terms, which the "
            "customer accepted, say less. A debit sooner than this is fixed and cannot be moved any more."
        ),
        14,
        whole_number(1, 14),
    ),
    Setting(
        DEBIT_ALLOWED_DAYS_KEY,
        _l("Days customers may choose"),
        _l(
            "The days of the month a customer may pick for their direct debit, such as 1-28 or 1, 15, 25. "
            "A day that is not a bank business day moves to the next one."
        ),
        list(range(1, 29)),
        days_of_month,
        structured=True,
        example="[1, 15, 25]",
    ),
    Setting(
        DEBIT_CHANGES_PER_YEAR_KEY,
        _l("Changes of day per year"),
        _l("How often a customer may move their collection day in any twelve months."),
        2,
        whole_number(0, 12),
    ),
    Setting(
        DEBIT_FAILED_GRACE_DAYS_KEY,
        _l("Quiet days after a failed debit"),
        _l("No reminders for an invoice whose debit failed, for this many days, while the customer sorts it out."),
        14,
        whole_number(0, 60),
    ),
    Setting(
        DEBIT_RETRY_WINDOW_DAYS_KEY,
        _l("Latest retry after a failed debit"),
        _l("A customer whose debit failed may pick a new date for it up to this many days ahead."),
        10,
        whole_number(1, 30),
    ),
]

# In declaration order, section by section as in SECTIONS: the settings pages and keys_with_prefix() follow it.
SETTINGS: dict[str, Setting] = {setting.key: setting for setting in [*_DECLARED, *PLAN_SETTINGS, *DISPUTE_SETTINGS]}


def get(key: str) -> Setting:
    """The declaration of ``key``; KeyError for a key nobody declared."""
    return SETTINGS[key]


def keys_with_prefix(prefix: str) -> list[str]:
    return [key for key in SETTINGS if key.startswith(prefix)]
