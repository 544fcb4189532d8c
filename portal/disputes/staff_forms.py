"""The staff forms of a dispute: a reply to the debtor, an internal note, an assignment.

The texts are checked by the services (``clean_text``), so the page and the API say the same."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField

from portal.i18n import _l


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("Your reply"), description=_l("The customer reads this in the portal and gets an e-mail."))


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Internal note"), description=_l("Only staff see this. The customer does not."))


class AssignForm(FlaskForm):
    # The choices are the staff who may handle disputes (staff_queries.assignable_staff), filled by the view.
    assignee = SelectField(_l("Assigned to"), validate_choice=False)
    drawn = HiddenField()  # the dispute's updated_at the page was drawn with (staff_services.drawn_text)
