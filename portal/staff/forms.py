from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.i18n import _l


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(message=_l("Please enter your e-mail address.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=_l("Please enter your password.")), Length(max=200)]
    )


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l("The 6-digit code from your authenticator app, or one of your recovery codes."),
        validators=[DataRequired(message=_l("Please enter a code.")), Length(max=20)],
    )


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        description=_l("Scan the QR code with your authenticator app, then enter the 6-digit code it shows."),
        validators=[DataRequired(message=_l("Please enter a code.")), Length(max=10)],
    )


class ConfirmForm(FlaskForm):
    """A form with only a CSRF token, for buttons that change something (log out, log out everywhere)."""


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(message=_l("Please enter your password.")), Length(max=200)]
    )
    new = PasswordField(
        _l("New password"),
        description=_l("At least 12 characters. A few unrelated words are easy to remember and hard to guess."),
        validators=[
            DataRequired(message=_l("Please enter a new password.")),
            Length(min=12, max=200, message=_l("The password must be at least 12 characters long.")),
        ],
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[EqualTo("new", message=_l("The two new passwords are not the same."))],
    )
