"""What can go wrong with a mandate, a schedule or a change of collection day, and how each reads to a person."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from portal.errors import DomainError, Message
from portal.i18n import _l


class DebitProblem(DomainError):
    """A change to a direct debit that the rules do not allow, or a mandate that cannot be used."""

    area = "debit"
    messages: ClassVar[Mapping[str, Message]] = {
        "day_not_allowed": _l("That day cannot be chosen. Pick one of the days shown."),
        "same_day": _l("Your debit is already collected on that day."),
        "too_many_changes": _l(
            "You have already changed your collection day %(limit)s times in the past twelve months. "
            "Please contact us if you need another change."
        ),
        "no_schedule": _l("You have no direct debit with us at the moment."),
        "mandate_not_active": _l("This direct debit mandate has been stopped, so nothing more is collected."),
        "invalid_iban": _l(
            "This is not a valid IBAN. Check the letters and digits, for example NL91 ABNA 0417 1643 00."
        ),
        "reference_taken": _l("A mandate with this reference already exists. Each mandate needs its own reference."),
        "reference_too_long": _l("A mandate reference has at most 35 characters."),
        "retry_date_not_allowed": _l("Pick a date from %(first)s to %(last)s on a bank business day."),
        "not_failed": _l("This debit has not failed, so there is nothing to choose."),
        "already_on_direct_debit": _l(
            "You already pay by direct debit. You can see it, move the day or stop it on your overview."
        ),
        "provider_refused": _l(
            "%(provider)s did not accept the change, so nothing has changed. Please try again later or contact us."
        ),
    }
