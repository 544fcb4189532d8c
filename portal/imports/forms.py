from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired

from portal.i18n import _l


class UploadForm(FlaskForm):
    kind = RadioField(
        _l("What is in the file?"),
        choices=[SelectChoice("customers", _l("Customers")), SelectChoice("invoices", _l("Invoices with their lines"))],
        validators=[InputRequired(message=_l("Choose what is in the file."))],
    )
    file = FileField(
        _l("CSV file"),
        description=_l(
            "Comma or semicolon separated, as Excel saves it. Nothing is imported yet: you first see what will change."
        ),
        validators=[FileRequired(message=_l("Choose a CSV file."))],
        render_kw={"accept": ".csv,.txt,text/csv"},
    )


class RunForm(FlaskForm):
    """Only a CSRF token: the Import button."""
