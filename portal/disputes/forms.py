"""The debtor's dispute forms. Files are checked by portal/disputes/uploads.py, not here: by their content."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import MultipleFileField, RadioField, SelectChoice, TextAreaField

from portal.i18n import _l
from portal.payments.forms import MultiCheckboxField

REASON_LABELS: dict[str, Any] = {
    "amount_wrong": _l("The amount is not right"),
    "not_received": _l("I did not receive what I am billed for"),
    "already_paid": _l("I have already paid this"),
    "service_complaint": _l("I have a complaint about the service"),
    "contract_ended": _l("My contract had ended"),
    "other": _l("Something else"),
}


class DisputeForm(FlaskForm):
    # Not checked against choices: an invoice paid or disputed meanwhile gets the service's own message.
    invoice = MultiCheckboxField(_l("Which invoices is it about?"), choices=[], validate_choice=False)
    line = MultiCheckboxField(_l("Only some lines?"), choices=[], validate_choice=False)
    reason = RadioField(
        _l("What is wrong?"),
        choices=[SelectChoice(code, label) for code, label in REASON_LABELS.items()],
        validate_choice=False,
    )
    explanation = TextAreaField(_l("Tell us what is wrong"))
    files = MultipleFileField(_l("Add files (optional)"))


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your message"))
    files = MultipleFileField(_l("Add files (optional)"))


class WithdrawForm(FlaskForm):
    pass
