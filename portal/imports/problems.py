"""What can be wrong with an import file, in words staff understand, in their own language.

A problem is stored as a code with parameters (in the job's summary), and put into words only when it is
shown, so the same preview reads in Dutch for one supervisor and in English for another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal.i18n import _l, format_money

# Beyond this many errors the list only grows longer, not more useful: the count says how many there are.
MAX_LISTED_ERRORS = 200


@dataclass(frozen=True)
class Problem:
    row: int | None  # as the spreadsheet shows it: the header is row 1; None for the file as a whole
    column: str | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "params": self.params}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Problem:
        return cls(data.get("row"), data.get("column"), data["code"], dict(data.get("params") or {}))


class Problems:
    """Errors found so far: every one is counted, the first MAX_LISTED_ERRORS are kept to show."""

    def __init__(self) -> None:
        self.listed: list[Problem] = []
        self.count = 0

    def add(self, row: int | None, column: str | None, code: str, /, **params: Any) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED_ERRORS:
            self.listed.append(Problem(row, column, code, params))

    def add_problem(self, problem: Problem) -> None:
        self.add(problem.row, problem.column, problem.code, **problem.params)

    def __bool__(self) -> bool:
        return self.count > 0

    def sorted(self) -> list[Problem]:
        return sorted(self.listed, key=lambda problem: (problem.row or 0, problem.column or ""))


MESSAGES = {
    # The file as a whole
    "empty_file": _l("The file is empty."),
    "no_rows": _l("The file has a first row with column names but no rows below it."),
    "binary": _l("This is not a CSV file. Save it from your spreadsheet as CSV and upload that file."),
    "excel_workbook": _l(
        "This is a spreadsheet workbook, not a CSV file. In Excel choose Save as, then "
        "\u201cCSV UTF-8\u201d or \u201cCSV (semicolon separated)\u201d, and upload that file."
    ),
    "csv_error": _l("The file cannot be read as CSV from row %(row)s on. Check the quotes in that row."),
    "missing_columns": _l("These columns are missing from the first row: %(columns)s."),
    "duplicate_column": _l("The column %(column)s appears more than once in the first row."),
    "looks_like_invoices": _l("This looks like a file of invoices. Choose \u201cInvoices\u201d and upload it again."),
    "looks_like_customers": _l(
        "This looks like a file of customers. Choose \u201cCustomers\u201d and upload it again."
    ),
    "unknown_column": _l("The column %(column)s is not known and was ignored."),
    "extra_cells": _l("This row has more cells than the first row has column names."),
    # One cell
    "required": _l("This cell is empty, but it is required."),
    "too_long": _l("This is too long: at most %(max)s characters."),
    # An invoice number that could not open its own page (portal/invoices/numbers.py)
    "invoice_number_characters": _l(
        "This invoice number has a line break, a tab, two spaces in a row or another character you cannot see. "
        "An invoice number is part of the address of its page: use letters, digits and punctuation, with at "
        "most one space between them."
    ),
    "invoice_number_slashes": _l(
        "\u201c%(value)s\u201d cannot be an invoice number: it starts or ends with a slash (/) or has two "
        "slashes in a row. An invoice number is part of the address of its page; single slashes inside it, "
        "as in INV/2026/0042, are fine."
    ),
    "invoice_number_dots": _l(
        "\u201c%(value)s\u201d cannot be an invoice number: a part between slashes is \u201c.\u201d or "
        "\u201c..\u201d, which a browser reads as a folder, so the link would open another page. "
        "Change or remove that part."
    ),
    "invalid_email": _l("\u201c%(value)s\u201d is not a valid e-mail address."),
    "unknown_language": _l("Unknown language \u201c%(value)s\u201d. Use nl or en."),
    "unknown_kind": _l("Unknown kind \u201c%(value)s\u201d. Use consumer or business."),
    "unknown_country": _l("Unknown country \u201c%(value)s\u201d. Use a two-letter code such as NL or BE."),
    "unknown_time_zone": _l("Unknown time zone \u201c%(value)s\u201d. Use a name such as Europe/Amsterdam."),
    "not_a_number": _l("\u201c%(value)s\u201d is not a number. Write numbers like 1234,56 or 1234.56."),
    "too_many_decimals": _l("\u201c%(value)s\u201d has too many decimals: at most %(places)s."),
    "number_too_large": _l("\u201c%(value)s\u201d is too large."),
    "negative_quantity": _l("The quantity cannot be negative. Write a discount as a negative unit price."),
    "not_a_date": _l(
        "\u201c%(value)s\u201d is not a date. Use YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY, "
        "for example 2026-10-31 or 31-10-2026."
    ),
    "not_a_moment": _l(
        "\u201c%(value)s\u201d is not a date. Use YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY, "
        "optionally followed by a time such as 14:30."
    ),
    "vat_rate_range": _l("The VAT rate must be between 0 and 99 (this says %(value)s)."),
    "unknown_currency": _l("Unknown currency \u201c%(value)s\u201d. Use a three-letter code such as EUR."),
    "unknown_state": _l("Unknown state \u201c%(value)s\u201d. Use open, paid or cancelled, or leave it empty."),
    "due_before_issue": _l("The due date is before the issue date."),
    "period_order": _l("The period ends before it starts."),
    "period_incomplete": _l("Fill in both period_start and period_end, or neither."),
    "paid_at_required": _l("A paid invoice needs the date it was paid, in paid_at."),
    "paid_at_not_paid": _l("paid_at is only for paid invoices: set state to paid, or leave paid_at empty."),
    "amount_too_large": _l("This amount is too large to import."),
    "amount_mismatch": _l("The amount %(amount)s does not match quantity \u00d7 unit price, which is %(expected)s."),
    # Direct debit (customers file)
    "invalid_iban": _l(
        "\u201c%(value)s\u201d is not a valid IBAN. Check the letters and digits, for example NL91 ABNA 0417 1643 00."
    ),
    "invalid_bic": _l("\u201c%(value)s\u201d is not a valid BIC. It has 8 or 11 characters, for example ABNANL2A."),
    "debit_day_range": _l("\u201c%(value)s\u201d is not a day of the month. Write a whole number from 1 to 31."),
    "debit_day_not_allowed": _l(
        "Day %(value)s cannot be used as a collection day. The allowed days are %(days)s (a setting)."
    ),
    "debit_amount_positive": _l("The amount to collect each month must be more than zero."),
    "not_a_period": _l(
        "\u201c%(value)s\u201d is not a month. Write the year and month as YYYY-MM, for example 2027-01."
    ),
    "debit_period_order": _l("debit_until is before debit_from."),
    "debit_from_past": _l("The month %(value)s has already begun or passed. Direct debit can only start later."),
    "debit_until_before_start": _l(
        "debit_until (%(value)s) is before %(first)s, the first month that can still be collected."
    ),
    "debit_until_notified": _l(
        "debit_until (%(value)s) is before a month that was already announced to the customer. "
        "Stop the mandate in the portal instead."
    ),
    "unknown_collector": _l("Unknown collector \u201c%(value)s\u201d. Use bank, mollie, stripe or demo."),
    "mandate_reference_missing": _l("Direct debit details need a mandate_reference in the same row."),
    "duplicate_mandate_reference": _l(
        "The mandate reference %(value)s is also in row %(other_row)s. Each mandate needs its own reference."
    ),
    "mandate_reference_taken": _l("The mandate reference %(value)s already belongs to customer %(owner)s."),
    "mandate_differs": _l(
        "Mandate %(value)s is already in the portal with other details (%(columns)s). A mandate cannot be changed: "
        "give the new mandate its own reference."
    ),
    # Rows that belong together, and what is in the database
    "duplicate_customer": _l(
        "The reference %(value)s is also in row %(other_row)s. Each customer can appear only once in a file."
    ),
    "invoice_differs": _l(
        "Invoice %(number)s has a different value here than in row %(other_row)s. "
        "The invoice columns must be the same on every line of an invoice."
    ),
    "duplicate_external_ref": _l("The reference %(value)s is also used by invoice %(other)s in this file."),
    "negative_total": _l(
        "The total of invoice %(number)s is negative (%(total)s). Credit notes cannot be imported yet."
    ),
    "unknown_customer": _l("There is no customer with the reference %(value)s. Import the customers first."),
    "other_customer": _l(
        "Invoice %(number)s belongs to customer %(owner)s. An import cannot move an invoice to another customer."
    ),
    "external_ref_taken": _l("The reference %(value)s already belongs to invoice %(owner)s."),
    "total_below_credited": _l(
        "Invoice %(number)s has credit notes of %(credited)s in the portal; its total cannot be lower than that."
    ),
    "unexpected": _l("The import stopped because of an unexpected error. Nothing was imported."),
}


def describe(problem: Problem) -> str:
    """The problem in the current language. Amounts (``*_cents``) are formatted as money."""
    params = dict(problem.params)
    currency = str(params.get("currency") or "EUR")
    for key in [key for key in params if key.endswith("_cents")]:
        params[key.removesuffix("_cents")] = format_money(int(params.pop(key)), currency)
    message = MESSAGES.get(problem.code, MESSAGES["unexpected"])
    try:
        return str(message) % params
    except (KeyError, TypeError, ValueError):  # a translation with a broken placeholder must not break the page
        return str(message)
