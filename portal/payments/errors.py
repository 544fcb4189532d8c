"""What can go wrong with a debtor's payment or a staff refund, and how each reads to a person."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from portal.errors import DomainError, Message
from portal.i18n import _, _l, format_money


def _at_least(details: Mapping[str, Any]) -> str:
    return _("The amount must be at least %(amount)s.", amount=format_money(details["minimum"], details["currency"]))


def _at_most(details: Mapping[str, Any]) -> str:
    return _(
        "The amount cannot be more than %(amount)s, the total of the chosen invoices.",
        amount=format_money(details["maximum"], details["currency"]),
    )


def _refund_at_most(details: Mapping[str, Any]) -> str:
    return _("You can refund at most %(amount)s.", amount=format_money(details["maximum"], details["currency"]))


class PaymentProblem(DomainError):
    """The debtor's choice cannot be paid as it is."""

    area = "payment"
    messages: ClassVar[Mapping[str, Message]] = {
        "nothing_selected": _l("Choose at least one invoice."),
        "invoice_not_open": _l("One of the chosen invoices is already paid. Please check your choice."),
        "invoice_on_hold": _l(
            "The chosen invoices are on hold while we look into your question, so there is nothing to pay on them now."
        ),
        "mixed_currencies": _l("Invoices in different currencies have to be paid separately."),
        "partial_not_allowed": _l("Paying part of an invoice is not possible here."),
        "method_unavailable": _l("This way of paying is not available for this amount. Please choose another."),
        "amount_too_small": _at_least,
        "amount_too_large": _at_most,
    }


class RefundProblem(DomainError):
    """A refund staff asked for that cannot be made."""

    area = "refund"
    messages: ClassVar[Mapping[str, Message]] = {
        "already_done": _l("This refund had already been made."),
        "not_paid": _l("Only a received payment can be refunded."),
        "amount": _refund_at_most,
    }
