"""The audit trail's filter form (a GET form: it changes nothing, so it carries no CSRF token)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.audit.labels import action_label
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
            SelectChoice("staff", _l("Member of staff")),
            SelectChoice("system", _l("System")),
        ],
        default="",
        invalid_choice_message=_CHOOSE,
    )
    # Its own label, not "Who" again: the two filters must be told apart by ear and in every language.
    actor = StringField(
        _l("E-mail address or customer reference"),
        description=_l("Part of it is enough."),
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
        """Offer the actions present, by name (the value stays the code), in alphabetical order of the name."""
        named = sorted(((action_label(action), action) for action in actions), key=lambda pair: pair[0].casefold())
        self.action.choices = [
            SelectChoice("", _l("Any action")),
            *(SelectChoice(action, label) for label, action in named),
        ]

    @property
    def criteria_args(self) -> dict[str, str]:
        """The filter as query arguments, from the known fields only, for the pager and the export link."""
        fields = (self.actor_type, self.actor, self.action, self.customer, self.date_from, self.date_to)
        return {field.name: field.raw_data[0] for field in fields if field.raw_data and field.raw_data[0]}
