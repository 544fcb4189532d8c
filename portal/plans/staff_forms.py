"""The staff forms for plans: the three decisions (each in two steps: what will happen, then do it), the
counter-proposal, the preview and "called". Counts and dates take ASCII digits only, as everywhere."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from portal import clock
from portal.errors import message_for
from portal.i18n import _l
from portal.money import AmountProblem, parse_amount
from portal.plans import rules
from portal.plans.errors import PlanProblem
from portal.plans.services import MAX_INSTALMENTS, MAX_REASON

EVERY_CHOICES = [SelectChoice("month", _l("Every month")), SelectChoice("2weeks", _l("Every two weeks"))]
KIND_CHOICES = [SelectChoice("consumer", _l("Consumer")), SelectChoice("business", _l("Business"))]
DATE_EXAMPLE = "2027-01-31"


def parse_count(text: Any) -> int | None:
    value = str(text or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 4:
        return None
    return int(value)


def parse_day(text: Any) -> date | None:
    """YYYY-MM-DD as a date field sends it; None for anything else (other digits, other orders)."""
    value = str(text or "").strip()
    if not value.isascii() or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _instalments(_form: Any, field: Any) -> None:
    count = parse_count(field.data)
    if count is None or not 1 <= count <= MAX_INSTALMENTS:
        raise ValidationError(message_for(PlanProblem("instalments_invalid", maximum=MAX_INSTALMENTS)))


def _first(_form: Any, field: Any) -> None:
    day = parse_day(field.data)
    if day is None:
        raise ValidationError(message_for(PlanProblem("first_date_invalid", example=DATE_EXAMPLE)))
    # Judged on the creditor's date; the counter-proposal is checked again on the customer's (check_choices).
    if day > clock.today(clock.BUSINESS_ZONE) + timedelta(days=rules.LATEST_FIRST_DAYS):
        raise ValidationError(message_for(PlanProblem("first_too_far")))


def _every(_form: Any, field: Any) -> None:
    if field.data not in rules.FREQUENCIES:
        raise ValidationError(message_for(PlanProblem("frequency_invalid")))


def _kind(_form: Any, field: Any) -> None:
    if field.data not in rules.KINDS:
        raise ValidationError(_l("Choose consumer or business."))


class ScheduleFields:
    """Instalments, every and first, as the staff type them; ``choices()`` once validated."""

    instalments: Any
    every: Any
    first: Any

    def choices(self) -> tuple[int, str, date]:
        return (
            int(parse_count(self.instalments.data) or 0),
            str(self.every.data),
            parse_day(self.first.data) or date.min,
        )


class DecisionForm(FlaskForm):
    # Set only by the confirmation page: the first submit says what will happen, the second does it.
    confirmed = HiddenField()


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the customer"),
        description=_l("The customer reads this in the portal and in the e-mail. Say what they can do instead."),
        validators=[
            InputRequired(message=_l("Give the customer a reason.")),
            Length(max=MAX_REASON, message=_l("Please keep it to %(max)d characters.")),
        ],
    )
    confirmed = HiddenField()

    def validate_reason(self, field: Any) -> None:
        if not str(field.data or "").strip():
            raise ValidationError(message_for(PlanProblem("reason_missing")))


class CounterForm(FlaskForm, ScheduleFields):
    instalments = StringField(
        _l("Number of instalments"), validators=[_instalments], render_kw={"inputmode": "numeric", "size": 4}
    )
    every = RadioField(_l("How often"), choices=EVERY_CHOICES, validators=[_every], validate_choice=False)
    first = StringField(
        _l("First instalment on"),
        description=_l("As YYYY-MM-DD, such as 2027-01-31."),
        validators=[_first],
        render_kw={"type": "date"},
    )
    note = TextAreaField(
        _l("Note for the customer (optional)"),
        description=_l("Shown with the new schedule, for example why you offer it."),
        validators=[Length(max=MAX_REASON, message=_l("Please keep it to %(max)d characters."))],
    )
    confirmed = HiddenField()


class PreviewForm(Form, ScheduleFields):
    """The staff preview: the inputs of ``flask plans preview``, read from the query string (no CSRF: GET)."""

    total = StringField(_l("Total"), description=_l("In euro, such as 1234,56."))
    instalments = StringField(
        _l("Number of instalments"), validators=[_instalments], render_kw={"inputmode": "numeric", "size": 4}
    )
    every = RadioField(_l("How often"), choices=EVERY_CHOICES, default="month", validators=[_every])
    first = StringField(
        _l("First instalment on"),
        description=_l("As YYYY-MM-DD, such as 2027-01-31."),
        validators=[_first],
        render_kw={"type": "date"},
    )
    kind = RadioField(
        _l("Customer type"), choices=KIND_CHOICES, default="consumer", validators=[_kind], validate_choice=False
    )

    def validate_total(self, field: Any) -> None:
        try:
            self.total_cents = parse_amount(field.data)
        except AmountProblem as problem:
            raise ValidationError(message_for(problem)) from None

    def validate(self, extra_validators: Any = None) -> bool:
        self.total_cents = 0
        valid = bool(super().validate(extra_validators))
        if valid and self.total_cents < int(parse_count(self.instalments.data) or 0):
            self.total.errors = [*self.total.errors, message_for(PlanProblem("too_many_cents"))]
            return False
        return valid
