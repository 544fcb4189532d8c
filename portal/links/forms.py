from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length

from portal.i18n import _l


class FreshLinkForm(FlaskForm):
    email = EmailField(
        _l("Your e-mail address"),
        description=_l("The address where you receive our invoices."),
        validators=[
            DataRequired(message=_l("Please enter your e-mail address.")),
            Email(
                message=_l("This does not look like an e-mail address. Check it for typing errors."),
                check_deliverability=False,
            ),
            Length(max=254),
        ],
    )
