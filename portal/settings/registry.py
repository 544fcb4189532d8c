"""Every setting, declared once: its key, label and help text, default, and validator (see validators.py).

Defaults are the demo creditor and today's policies, so ``make run`` needs nothing and a deployment that
never changed a setting behaves as before. The migration seeds nothing: a key without versions has its default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portal.i18n import _l
from portal.settings.validators import (
    SettingProblem,
    amount_cents,
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
    "DEBT_HELP_PREFIX",
    "PLAN_ANSWER_DAYS_KEY",
    "PLAN_FIRST_WITHIN_DAYS_KEY",
    "PLAN_GRACE_DAYS_KEY",
    "PLAN_INTEREST_CHOICES",
    "PLAN_INTEREST_KEY",
    "PLAN_INVOICES_KEY",
    "PLAN_INVOICE_CHOICES",
    "PLAN_PREFIX",
    "PLAN_REMINDER_DAYS_KEY",
    "PROMISE_MAX_DAYS_KEY",
    "PLAN_COOLING_OFF_DAYS_KEY",
    "plan_limit_key",
    "DISPUTE_PREFIX",
    "DISPUTE_FIRST_RESPONSE_DAYS_KEY",
    "DISPUTE_RESOLUTION_DAYS_KEY",
    "DISPUTE_SUPERVISOR_CREDIT_ABOVE_KEY",
    "DISPUTE_CANNED_REPLIES_PREFIX",
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
# Payment plans and promises (portal/plans/policy.py reads them): a key per kind of customer and limit.
PLAN_PREFIX = "plans."
PLAN_INVOICES_KEY = "plans.invoices"
PLAN_INVOICE_CHOICES = ("overdue", "open")
PLAN_FIRST_WITHIN_DAYS_KEY = "plans.first_within_days"
PLAN_REMINDER_DAYS_KEY = "plans.reminder_days"
PLAN_GRACE_DAYS_KEY = "plans.grace_days"
PLAN_ANSWER_DAYS_KEY = "plans.answer_days"
PLAN_INTEREST_KEY = "plans.interest"
PLAN_INTEREST_CHOICES = ("none", "statutory")
PROMISE_MAX_DAYS_KEY = "plans.promise_max_days"
PLAN_COOLING_OFF_DAYS_KEY = "plans.cooling_off_days"
DEBT_HELP_PREFIX = "plans.debt_help_"  # + a country code: the text of the "I cannot pay" page there
# Disputes (portal/disputes reads them): deadlines in business days, and who may credit how much.
DISPUTE_PREFIX = "disputes."
DISPUTE_FIRST_RESPONSE_DAYS_KEY = "disputes.first_response_days"
DISPUTE_RESOLUTION_DAYS_KEY = "disputes.resolution_days"
DISPUTE_SUPERVISOR_CREDIT_ABOVE_KEY = "disputes.supervisor_credit_above"
DISPUTE_CANNED_REPLIES_PREFIX = "disputes.canned_replies_"  # + a language: en, nl


def plan_limit_key(kind: str, limit: str) -> str:
    """("consumer", "max_instalments") -> "plans.consumer_max_instalments"."""
    return f"{PLAN_PREFIX}{kind}_{limit}"


@dataclass(frozen=True)
class Setting:
    key: str
    label: Any  # lazy strings: translated when shown
    help: Any
    default: Any
    validator: Callable[[Any], Any]
    # The CLI reads the value as JSON (a dict of currencies, of methods); otherwise as plain text.
    structured: bool = False
    example: str = ""

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    def parse(self, raw: Any) -> Any:
        try:
            return self.validator(raw)
        except SettingProblem as problem:
            problem.key = self.key
            if problem.code == "invalid_structure":
                problem.details.setdefault("example", self.example)
            raise


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

_KIND_LABELS = {"consumer": _l("consumers"), "business": _l("businesses")}
# Consumers get more room than businesses: longer plans of smaller instalments, as collection codes expect.
_PLAN_LIMIT_DEFAULTS = {
    "consumer": {"max_instalments": 6, "min_instalment": 2500, "max_total": 250000},
    "business": {"max_instalments": 3, "min_instalment": 10000, "max_total": 1000000},
}
for _kind, _limits in _PLAN_LIMIT_DEFAULTS.items():
    _DECLARED += [
        Setting(
            plan_limit_key(_kind, "max_instalments"),
            _l("Most instalments for %(kind)s", kind=_KIND_LABELS[_kind]),
            _l("A plan with more instalments than this is not approved at once: it goes to staff."),
            _limits["max_instalments"],
            whole_number(1, 36),
        ),
        Setting(
            plan_limit_key(_kind, "min_instalment"),
            _l("Smallest instalment for %(kind)s", kind=_KIND_LABELS[_kind]),
            _l("Each instalment of a plan approved at once is at least this much (in euro)."),
            _limits["min_instalment"],
            amount_cents(100, 1_000_000),
        ),
        Setting(
            plan_limit_key(_kind, "max_total"),
            _l("Largest total for %(kind)s", kind=_KIND_LABELS[_kind]),
            _l("A plan for more than this (in euro) always goes to staff."),
            _limits["max_total"],
            amount_cents(100, 100_000_000),
        ),
    ]
_DECLARED += [
    Setting(
        PLAN_INVOICES_KEY,
        _l("Invoices a plan may cover"),
        _l("Only overdue invoices, or every open invoice (also those not yet due)."),
        "open",
        one_of(*PLAN_INVOICE_CHOICES),
    ),
    Setting(
        PLAN_FIRST_WITHIN_DAYS_KEY,
        _l("First instalment at the latest after"),
        _l("Calendar days from the day of the proposal to the first instalment of a plan approved at once."),
        30,
        whole_number(0, 90),
    ),
    Setting(
        PLAN_REMINDER_DAYS_KEY,
        _l("Reminder before each instalment"),
        _l("Calendar days before an instalment is due that the customer gets a reminder (0: no reminder)."),
        3,
        whole_number(0, 14),
    ),
    Setting(
        PLAN_GRACE_DAYS_KEY,
        _l("Grace period after a missed instalment"),
        _l(
            "Calendar days after a missed instalment before the plan lapses and everything left is due. "
            "The customer gets one reminder when the instalment is missed."
        ),
        7,
        whole_number(1, 30),
    ),
    Setting(
        PLAN_ANSWER_DAYS_KEY,
        _l("Answer to a proposal within"),
        _l("Business days in which staff answer a proposal outside the policy. The customer is told this date."),
        2,
        whole_number(1, 15),
    ),
    Setting(
        PLAN_INTEREST_KEY,
        _l("Interest during a plan"),
        _l("Whether statutory interest keeps running on what is in a plan. The agreement says which."),
        "none",
        one_of(*PLAN_INTEREST_CHOICES),
    ),
    Setting(
        PROMISE_MAX_DAYS_KEY,
        _l("Latest date of a promise to pay"),
        _l("A customer may promise to pay everything by a date up to this many days ahead."),
        14,
        whole_number(1, 60),
    ),
    Setting(
        PLAN_COOLING_OFF_DAYS_KEY,
        _l("After a plan or promise was not kept"),
        _l(
            "For this many days after a customer's plan lapsed or promise was broken, a new plan from them goes to "
            "staff and no new promise is agreed online (0: no such pause)."
        ),
        90,
        whole_number(0, 365),
    ),
    *(
        Setting(
            f"{DEBT_HELP_PREFIX}{_country}",
            _l("Debt help in %(country)s", country=_country),
            _l(
                "The text of the page for customers who cannot pay, for customers in this country. Leave it empty "
                "for the standard text, which points to free debt help."
            ),
            "",
            text_validator(2000, required=False, multiline=True),
        )
        for _country in ("NL", "BE")
    ),
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

SETTINGS: dict[str, Setting] = {setting.key: setting for setting in _DECLARED}


def get(key: str) -> Setting:
    """The declaration of ``key``; KeyError for a key nobody declared."""
    return SETTINGS[key]


def keys_with_prefix(prefix: str) -> list[str]:
    return [key for key in SETTINGS if key.startswith(prefix)]
