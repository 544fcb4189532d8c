from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.customers.services import NOTE_MAX_LENGTH
from portal.i18n import _l


def _normalise_text(value: str | None) -> str | None:
    # Browsers send line breaks as CRLF: count them as one character, as the textarea's maxlength does.
    return value.replace("\r\n", "\n").strip() if value else value


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Note"),
        description=_l("What happened or was agreed. Everyone who can see this customer can read it."),
        filters=[_normalise_text],
        validators=[
            DataRequired(message=_l("Please write the note.")),
            Length(max=NOTE_MAX_LENGTH, message=_l("A note can be at most %(max)d characters long.")),
        ],
    )


class RevokeLinkForm(FlaskForm):
    # Set only by the confirmation page: the first press of Revoke shows what it will do, the second does it.
    confirmed = HiddenField()
