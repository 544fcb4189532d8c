"""What can go wrong with a payment plan or a promise, and how each reads to a person."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from portal.errors import DomainError, Message
from portal.i18n import _, _l, format_day


class PlanProblem(DomainError):
    area = "plan"
    messages: ClassVar[Mapping[str, Message]] = {
        "nothing_selected": _l("Choose at least one invoice."),
        "invoice_not_eligible": _l(
            "One of these invoices cannot be part of a plan (it is paid, or already in a plan or promise)."
        ),
        "mixed_currencies": _l("A plan is in one currency. Choose invoices in the same currency."),
        "instalments_invalid": _l("Choose from 1 to %(maximum)s instalments."),
        "frequency_invalid": _l("Choose how often you pay: every month or every two weeks."),
        "first_date_invalid": _l("Enter the date of the first payment, such as %(example)s."),
        "first_in_past": _l("The first payment cannot be in the past."),
        "first_too_far": _l("The first payment can be at most a year from today."),
        "too_many_cents": _l("The total is too small for that many instalments."),
        "plan_exists": _l("You already have a payment plan or proposal for these invoices."),
        "not_waiting": _l("This proposal has already been decided. Nothing else has changed."),
        "not_active": _l("This payment plan is not running, so there is no instalment to pay."),
        "payment_pending": _l(
            "A payment for this plan is on its way to us. Once it has arrived you see it here, so there is nothing "
            "to pay now."
        ),
        "collected_by_debit": _l(
            "We collect the instalments of this plan by direct debit, so there is nothing to pay here."
        ),
        "nothing_due": _l("Nothing of this payment plan is left to pay. Thank you!"),
        "method_invalid": _l("Choose how you pay the instalments."),
        "amounts_changed": _l(
            "What is owed on these invoices has changed since the proposal (a payment came in, or an invoice "
            "changed). Reject it and say why; the customer can propose a plan for what is owed now."
        ),
        "amounts_changed_since_offer": _l(
            "What you owe has changed since we made this offer, so it no longer fits. Decline it and propose a new "
            "plan for what you owe now."
        ),
        "counter_expired": _l("This offer has expired: its first payment date has passed. You can propose a new plan."),
        "not_countered": _l("There is no proposal from us waiting for your answer."),
        "consent_missing": _l("Tick the box to confirm that you agree."),
        "agreement_changed": _l(
            "Your choices changed after we showed you the schedule. Check the new schedule and agreement below."
        ),
        "reason_too_long": _l("Please keep it to %(limit)s characters."),
        "reason_missing": _l("Give the customer a reason."),
        "budget_invalid": _l("Enter amounts such as 1250 or 1250.00, or leave both empty."),
        "budget_income_missing": _l("Fill in your income too, or leave both empty."),
        "budget_expenses_missing": _l("Fill in your fixed costs too, or leave both empty."),
        "needs_supervisor": _l("A decision outside the policy needs a supervisor."),
        "promise_date_invalid": lambda details: _(
            "Choose a date from %(first)s to %(last)s.",
            first=format_day(details["first"]),
            last=format_day(details["last"]),
        ),
        "promise_date_unreadable": lambda details: _(
            "Enter the date as day-month-year, such as %(example)s.", example=details["example"].strftime("%d-%m-%Y")
        ),
        "promise_after_not_kept": _l(
            "An earlier promise or payment plan was not kept, so we cannot agree a new date here. Propose a payment "
            "plan (our team looks at it), or call us and we look for a solution together."
        ),
        "promise_exists": _l("You have already promised to pay these invoices."),
        "phone_invalid": _l("Enter a phone number we can call, such as 06 12345678."),
        "callback_unknown": _l("This request to be called back does not exist."),
        "callback_handled": _l("%(by)s already marked this request as called. Nothing else has changed."),
        "callback_exists": _l("You have already asked us to call you. We will call you soon."),
    }
