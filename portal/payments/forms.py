from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.i18n import _l

# "12", "12.5", "12,50", "1.234,56", "1,234.56": digits with at most one decimal part of one or two digits.
_AMOUNT = re.compile(r"^\s*(?:€\s*)?(\d{1,3}(?:[.,\s]\d{3})*|\d+)(?:[.,](\d{1,2}))?\s*$")


def parse_amount_cents(text: str) -> int | None:
    """Cents from what a person types, in Dutch or English notation; None when it is not an amount."""
    match = _AMOUNT.match(text or "")
    if not match:
        return None
    whole = re.sub(r"[.,\s]", "", match.group(1))
    fraction = (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(fraction or "0")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PayForm(FlaskForm):
    # Not checked against the choices: an invoice paid meanwhile gets the service's friendlier message.
    invoice = MultiCheckboxField(_l("Which invoices do you want to pay?"), choices=[], validate_choice=False)
    amount_choice = RadioField(
        _l("How much do you want to pay?"),
        choices=[SelectChoice("full", _l("Everything")), SelectChoice("partial", _l("Part of it"))],
        default="full",
    )
    partial_amount = StringField(_l("Amount"))
    method = RadioField(_l("How do you want to pay?"), choices=[])

    def validate_invoice(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one invoice."))

    def validate_partial_amount(self, field: Any) -> None:
        if self.amount_choice.data == "partial" and parse_amount_cents(field.data or "") is None:
            raise ValidationError(_l("Enter an amount in euros, for example 25,00."))

    @property
    def partial_cents(self) -> int | None:
        if self.amount_choice.data != "partial":
            return None
        return parse_amount_cents(self.partial_amount.data or "")


class RefundForm(FlaskForm):
    amount = StringField(_l("Amount to refund"))
    request_id = HiddenField(validators=[Regexp(r"^[0-9a-f]{24}$")])
    # Set only by the confirmation page: the first submit shows what will happen, the second refunds.
    confirmed = HiddenField()

    def validate_amount(self, field: Any) -> None:
        if parse_amount_cents(field.data or "") is None:
            raise ValidationError(_l("Enter an amount, for example 25,00."))
