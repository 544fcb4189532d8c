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
        "no_email": _l("We have no e-mail address for you, so we cannot send you a code. Please contact us."),
        "code_requests": _l(
            "You have asked for several codes in the last hour. Please wait a while, or use the last code we sent."
        ),
        "code_missing": _l("Ask for a code first. We send it to your e-mail address."),
        "code_wrong": _l("That code is not right. Check the e-mail and try again (%(left)s tries left)."),
        "code_expired": _l("This code has expired: a code works for 10 minutes. Ask for a new code."),
        "code_used": _l("This code has already been used. Ask for a new code if you want to make another change."),
        "code_locked": _l("The code was entered wrongly too often. Ask for a new code."),
        "code_other_change": _l("This code was sent for another change. Ask for a new code for this change."),
        "invoice_settled": _l("This invoice is paid now, so there is nothing more to collect. Thank you!"),
        "choice_made": _l("You have already made a choice for this debit. Nothing else has changed."),
    }


class BankFileProblem(DomainError):
    """A pain.008 file that cannot be made, or a returns file from the bank that cannot be read (nothing changed)."""

    area = "debit_bank_file"
    messages: ClassVar[Mapping[str, Message]] = {
        "no_debits": _l("No debits are collected through the bank on %(date)s, so there is no file for that date."),
        "creditor_incomplete": _l(
            "The creditor's %(missing)s is missing in the settings. A direct-debit file needs it: fill it in first."
        ),
        "empty_file": _l("The file is empty. Choose the returns file you downloaded from the bank."),
        "unknown_format": _l(
            "This is not a returns file we can read. Upload the bank's camt.054 or pain.002 file, "
            "or a CSV file with the columns end_to_end_id, reason_code and amount."
        ),
        "unsafe_xml": _l("The file contains a DOCTYPE or ENTITY declaration, which we do not accept. Nothing changed."),
        "bad_xml": _l("The file is not valid XML (%(error)s). Nothing changed."),
        "missing_columns": _l("The CSV file lacks the column(s) %(columns)s. Nothing changed."),
        "bad_end_to_end_id": _l(
            "Line %(line)s: the end-to-end id is missing or longer than 35 characters. Nothing changed."
        ),
        "bad_reason_code": _l(
            "Line %(line)s: %(value)s is not a reason code (four letters or digits, such as AM04). Nothing changed."
        ),
        "bad_amount": _l("Line %(line)s: %(value)s is not an amount (such as 84.70). Nothing changed."),
        "whole_file_rejected": _l(
            "The bank rejected the whole file or a whole batch (reason %(reason)s), without naming the debits. "
            "Nothing changed here: ask the bank what was wrong, and send the file again."
        ),
    }
