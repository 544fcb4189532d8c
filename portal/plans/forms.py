"""The debtor's plan forms. The invoices are checkboxes the page draws itself (the eligible invoices change with
the customer); whether they may be in a plan is the service's to say, so the field checks no choices."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired

from portal.i18n import _l

# The choice offered on the page; the policy decides what is approved at once, staff decide the rest.
INSTALMENT_CHOICES = list(range(2, 25))


class PlanForm(FlaskForm):
    invoice = SelectMultipleField(_l("Invoices"), choices=[], validate_choice=False)
    instalments = SelectField(
        _l("Number of instalments"),
        coerce=int,
        choices=[SelectChoice(n, str(n)) for n in INSTALMENT_CHOICES],
        default=3,
    )
    every = RadioField(
        _l("How often"),
        choices=[SelectChoice("month", _l("Every month")), SelectChoice("2weeks", _l("Every two weeks"))],
        default="month",
    )
    first = DateField(
        _l("Date of the first instalment"),
        validators=[InputRequired(message=_l("Enter the date of the first instalment."))],
    )
    direct_debit = BooleanField(_l("Collect the instalments by direct debit"))
    reason = TextAreaField(
        _l("Anything you want us to know (optional)"),
        description=_l("For example why you need more time. At most 2000 characters."),
    )
    income = StringField(_l("Your income per month (optional)"), description=_l("In euro, for example 1850"))
    expenses = StringField(
        _l("Your fixed costs per month (optional)"),
        description=_l("Rent, energy, insurance: in euro, for example 1400"),
    )
    agree = BooleanField(_l("I agree to this payment plan"))
    seal = HiddenField()


class AnswerForm(FlaskForm):
    agree = BooleanField(_l("I agree to this payment plan"))
    seal = HiddenField()
