"""Forms for managing staff accounts. Buttons that only need a CSRF token use portal.staff.forms.ConfirmForm."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from portal.i18n import LANGUAGE_NAMES, ROLE_NAMES, _l
from portal.staff.models import ROLES

ROLE_CHOICES = [SelectChoice(role, ROLE_NAMES[role]) for role in ROLES]
_CHOOSE_ROLE = _l("Please choose one of the roles in the list.")
LANGUAGE_CHOICES = [SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGE_NAMES.items()]


class CreateStaffForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        description=_l("The person logs in with this address."),
        validators=[DataRequired(message=_l("Please enter an e-mail address.")), Length(max=254)],
    )
    name = StringField(
        _l("Name"),
        description=_l("Shown in the staff area and the audit trail."),
        validators=[DataRequired(message=_l("Please enter a name.")), Length(max=200)],
    )
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="viewer", invalid_choice_message=_CHOOSE_ROLE)
    language = SelectField(
        _l("Language"),
        choices=LANGUAGE_CHOICES,
        default="nl",
        invalid_choice_message=_l("Please choose one of the languages in the list."),
    )


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, invalid_choice_message=_CHOOSE_ROLE)
