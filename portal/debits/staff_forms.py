"""The staff form that moves a customer's collection day on their behalf (two steps: what happens, then do it)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from portal.i18n import _l


class DayChangeForm(FlaskForm):
    new_day = IntegerField(
        _l("New collection day"),
        validators=[
            InputRequired(message=_l("Enter a day of the month from 1 to 31.")),
            NumberRange(min=1, max=31, message=_l("Enter a day of the month from 1 to 31.")),
        ],
    )
    # The day the page was drawn with: a second press of the confirmation, or a change by someone else in
    # between, is told apart from a new change by comparing it with the day in force.
    from_day = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=31)])
    # Set only by the confirmation page: the first submit says what will happen, the second makes the change.
    confirmed = HiddenField()
