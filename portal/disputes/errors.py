"""What a debtor or staff member can get wrong with a dispute, in words they understand."""

from __future__ import annotations

from typing import Any, ClassVar

from portal.errors import DomainError
from portal.i18n import _l, format_money


def _money(details: Any, key: str) -> str:
    return format_money(int(details[key]), str(details.get("currency", "EUR")))


class DisputeProblem(DomainError):
    area: ClassVar[str] = "dispute"
    messages: ClassVar[dict[str, Any]] = {
        "no_invoices": _l("Choose the invoice or invoices that something is wrong with."),
        "invoice_not_open": _l("Invoice %(number)s has nothing left to pay, so there is nothing to hold."),
        "unknown_invoice": _l("We could not find that invoice on your account. Choose one from the list."),
        "unknown_line": _l("Choose lines from the invoices you chose."),
        "already_disputed": _l(
            "Invoice %(number)s is already part of a question you asked (%(reference)s). Add to that one instead."
        ),
        "mixed_currencies": _l("Choose invoices in one currency. Ask a separate question for the others."),
        "no_reason": _l("Choose what is wrong."),
        "explanation_missing": _l("Tell us in a few words what is wrong, so we can look into it."),
        "explanation_too_long": _l("Keep your explanation under %(limit)s characters."),
        "message_missing": _l("Write a message, or add a file."),
        "too_many_files": _l("This conversation has %(limit)s files already. Send more by e-mail if you need to."),
        "too_many_today": _l(
            "You have written to us a lot today. We read everything you sent; please call us if something is urgent."
        ),
        "closed": _l("This question has been answered and closed. Ask a new one if something is still wrong."),
        "not_open": _l("This dispute is closed: it can no longer be changed."),
        "amount_missing": _l("Enter the amount of the credit note."),
        "amount_too_large": lambda details: str(
            _l("A credit note can be at most what is still open on the invoice: %(amount)s.")
            % {"amount": _money(details, "maximum")}
        ),
        "needs_supervisor": lambda details: str(
            _l("A credit note above %(amount)s needs a supervisor. Ask one to resolve this dispute.")
            % {"amount": _money(details, "limit")}
        ),
        "reason_missing": _l("Give the reasons: the customer reads them."),
        "due_date_missing": _l("Choose the new due date."),
        "due_date_past": _l("The new due date must be after today."),
        "due_date_too_far": _l("The new due date can be at most %(days)s days from today."),
        "due_date_unreadable": _l("Enter the new due date, such as %(example)s."),
        "invoice_not_in_dispute": _l("Choose an invoice of this dispute."),
        "nothing_to_correct": _l("Invoice %(number)s has nothing left open to correct."),
        "corrected_amount_missing": _l(
            "Enter the amount of the corrected invoice. If nothing is owed, resolve with a credit note instead."
        ),
        "corrected_not_lower": lambda details: str(
            _l("The corrected invoice must be lower than what is still open on the invoice: %(amount)s.")
            % {"amount": _money(details, "maximum")}
        ),
        "already_resolved": _l("This dispute has already been resolved. Nothing else has changed."),
        "not_staff": _l("Choose someone from the list."),
        "changed_meanwhile": _l("Someone else changed this dispute meanwhile. Look at it again and try once more."),
    }
