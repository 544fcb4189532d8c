"""The ``plans.*`` settings, for payment plans and promises to pay: their keys and their declarations."""

from __future__ import annotations

from portal.i18n import _l
from portal.settings.declaration import Setting
from portal.settings.validators import amount_cents, one_of, text_validator, whole_number

# portal/plans/policy.py reads them: a key per kind of customer and limit, and the rest of the policy.
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


def plan_limit_key(kind: str, limit: str) -> str:
    """("consumer", "max_instalments") -> "plans.consumer_max_instalments"."""
    return f"{PLAN_PREFIX}{kind}_{limit}"


_KIND_LABELS = {"consumer": _l("consumers"), "business": _l("businesses")}
# Consumers get more room than businesses: longer plans of smaller instalments, as collection codes expect.
_PLAN_LIMIT_DEFAULTS = {
    "consumer": {"max_instalments": 6, "min_instalment": 2500, "max_total": 250000},
    "business": {"max_instalments": 3, "min_instalment": 10000, "max_total": 1000000},
}
PLAN_SETTINGS: list[Setting] = []
for _kind, _limits in _PLAN_LIMIT_DEFAULTS.items():
    PLAN_SETTINGS += [
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
PLAN_SETTINGS += [
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
]
