"""The audit trail's filter form (a GET form: it changes nothing, so it carries no CSRF token)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.i18n import _l

_CHOOSE = _l("Please choose one of the options.")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    actor_type = SelectField(
        _l("Who"),
        choices=[
            SelectChoice("", _l("Anyone")),
            SelectChoice("debtor", _l("Debtor")),
            SelectChoice("staff", _l("Staff")),
            SelectChoice("system", _l("System")),
        ],
        default="",
        invalid_choice_message=_CHOOSE,
    )
    actor = StringField(
        _l("Actor"),
        description=_l("Part of an e-mail address or customer reference."),
        validators=[Optional(), Length(max=254)],
        filters=[_strip],
    )
    # Choices are the actions present in the trail; the view fills them in.
    action = SelectField(
        _l("Action"), choices=[SelectChoice("", _l("Any action"))], default="", invalid_choice_message=_CHOOSE
    )
    customer = StringField(_l("Customer reference"), validators=[Optional(), Length(max=64)], filters=[_strip])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Up to and including"), validators=[Optional()])

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.date_from.data and self.date_to.data and self.date_from.data > self.date_to.data:
            self.date_to.errors = [*self.date_to.errors, _l("The end date is before the start date.")]
            return False
        return True

    def set_actions(self, actions: list[str]) -> None:
        self.action.choices = [SelectChoice("", _l("Any action")), *(SelectChoice(action) for action in actions)]
