"""Requests about staff accounts that cannot be honoured, and what each says to the person who asked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from portal.errors import DomainError, Message
from portal.i18n import _l


class StaffError(DomainError):
    area = "staff"
    messages: ClassVar[Mapping[str, Message]] = {
        "email_taken": _l("There is already a staff account with this e-mail address."),
        "invalid_email": _l("Please enter a valid e-mail address, such as name@example.com."),
        "unknown_role": _l("Please choose one of the roles in the list."),
        "last_admin": _l(
            "This is the last active administrator. Make another account administrator first, "
            "so someone can still manage the team."
        ),
        "cannot_change_self": _l(
            "You cannot demote or deactivate your own account. Ask another administrator to do it."
        ),
        "cannot_reset_self": _l(
            "You cannot reset your own password or second factor here. Ask another administrator to do it."
        ),
        "wrong_password": _l("This is not your current password."),
        "same_password": _l("Choose a password that differs from the current one."),
        "password_too_short": _l("The password must be at least 12 characters long."),
        "wrong_code": _l("This code is not right. Check the time on your phone and try the newest code."),
        "enrolment_expired": _l(
            "Setting up took too long, so there is a new QR code. Scan it again and enter the code the app shows."
        ),
    }
