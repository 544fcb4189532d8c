from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.errors import message_for
from portal.i18n import _l
from portal.money import AmountProblem, parse_amount


def _amount_or_error(text: str | None, currency: str) -> int:
    try:
        return parse_amount(text, currency)
    except AmountProblem as problem:
        raise ValidationError(message_for(problem)) from None


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
    currency = "EUR"  # of the chosen invoices; the view sets it before validating

    def validate_invoice(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one invoice."))

    def validate_partial_amount(self, field: Any) -> None:
        if self.amount_choice.data == "partial":
            _amount_or_error(field.data, self.currency)
        elif (field.data or "").strip():
            # Paying everything with an amount typed in: which one did the person mean? Ask, start nothing.
            raise ValidationError(
                _l("You chose to pay everything. Clear the amount, or choose \u201cPart of it now\u201d.")
            )

    @property
    def partial_cents(self) -> int | None:
        if self.amount_choice.data != "partial":
            return None
        return parse_amount(self.partial_amount.data, self.currency)


class RefundForm(FlaskForm):
    amount = StringField(_l("Amount to refund"))
    request_id = HiddenField(validators=[Regexp(r"^[0-9a-f]{24}$")])
    # Set only by the confirmation page: the first submit shows what will happen, the second refunds.
    confirmed = HiddenField()

    currency = "EUR"  # of the payment; the view sets it before validating

    def validate_amount(self, field: Any) -> None:
        _amount_or_error(field.data, self.currency)

    @property
    def amount_cents(self) -> int:
        return parse_amount(self.amount.data, self.currency)
