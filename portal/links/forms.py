from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length

from portal.i18n import _l


def _trimmed(value: str | None) -> str | None:
    # Pasted from an e-mail or an address book, an address often brings a space or a line break with it.
    return value.strip() if isinstance(value, str) else value


class FreshLinkForm(FlaskForm):
    email = EmailField(
        _l("Your e-mail address"),
        description=_l("The address where you receive our invoices."),
        filters=[_trimmed],
        validators=[
            DataRequired(message=_l("Please enter your e-mail address.")),
            Email(
                message=_l("This does not look like an e-mail address. Check it for typing errors."),
                check_deliverability=False,
            ),
            Length(max=254),
        ],
    )
