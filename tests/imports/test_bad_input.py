"""Every kind of bad input gets a clear message naming the row, the column and what is wrong."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.customers.models import Customer
from portal.imports.problems import MAX_LISTED_ERRORS
from tests.imports.helpers import DATA, errors, warnings

CUSTOMER_HEADER = "external_ref,name,email,language,kind,country"
INVOICE_HEADER = "customer_ref,invoice_number,issue_date,due_date,description,quantity,unit,unit_price,vat_rate"


def customers(*rows: str, header: str = CUSTOMER_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def invoices(*rows: str, header: str = INVOICE_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


@pytest.fixture()
def known_customer(create_customer):
    return create_customer(external_ref="K-1", name="Karin Kok")


def test_a_dutch_excel_file_in_windows_1252_with_semicolons_is_read_and_says_so(check):
    outcome = check("customers", (DATA / "customers_excel_nl.csv").read_bytes())

    assert errors(outcome) == []
    assert (outcome.encoding, outcome.encoding_fallback, outcome.delimiter) == ("Windows-1252", True, ";")
    assert outcome.tally.counts["created"] == 2
    assert [sample["name"] for sample in outcome.tally.samples["created"]] == ["Eetcafé De Zwaan", "Joëlle Maréchal"]


def test_utf8_with_a_byte_order_mark_is_utf8(check):
    outcome = check("customers", (DATA / "customers_utf8_bom.csv").read_bytes())
    assert errors(outcome) == []
    assert outcome.encoding == "UTF-8 with BOM" and not outcome.encoding_fallback
    assert outcome.tally.samples["created"][0]["ref"] == "T-3101", "the BOM is not part of the first column's name"


def test_decimal_commas_thousands_separators_and_both_date_formats(do_import, session, create_customer):
    create_customer(external_ref="T-3001")
    create_customer(external_ref="T-3002")
    outcome = do_import("invoices", (DATA / "invoices_excel_nl.csv").read_bytes())

    assert errors(outcome) == []
    from portal.invoices.models import Invoice

    first = session.scalars(select(Invoice).where(Invoice.number == "T-INV-1")).one()
    assert [str(line.quantity.normalize()) for line in first.lines] == ["1234.5", "1", "1", "0.5"]
    assert [line.amount_cents for line in first.lines] == [33764, 699, -5206, 4450]
    # VAT per rate, half up on the rate's base: 21% of 292,57 = 61,4397; 9% of 44,50 = 4,005 -> 4,01.
    assert [(str(v.rate.normalize()), v.base_cents, v.vat_cents) for v in first.vat_totals] == [
        ("9", 4450, 401),
        ("21", 29257, 6144),
    ]
    assert (first.subtotal_cents, first.vat_cents, first.total_cents) == (33707, 6545, 40252)
    second = session.scalars(select(Invoice).where(Invoice.number == "T-INV-2")).one()
    assert (second.issue_date.isoformat(), second.lines[0].amount_cents, second.total_cents) == (
        "2026-10-01",
        1610,
        1948,
    )


@pytest.mark.parametrize(
    ("quantity", "price", "cents"),
    [("12,5", "1,28760", 1610), ("12.5", "1.28760", 1610), ("1.234,5", "0,2735", 33764), ("1,234.5", "0.2735", 33764)],
)
def test_decimal_commas_and_points_mean_the_same(check, known_customer, quantity, price, cents):
    outcome = check("invoices", invoices(f'K-1,F-1,2026-10-01,2026-10-15,Gas,"{quantity}",m3,"{price}",21'))
    assert errors(outcome) == []
    assert outcome.tally.samples["created"][0]["total_cents"] == cents + round(cents * 0.21)


def test_missing_columns_are_named(check):
    outcome = check("customers", "external_ref,name,language,country\nC-1,Ann,nl,NL\n")
    assert errors(outcome) == ["1||These columns are missing from the first row: email, kind."]


def test_a_customers_file_uploaded_as_invoices_says_so(check):
    outcome = check("invoices", customers("C-1,Ann,ann@example.nl,nl,consumer,NL"))
    assert "1||This looks like a file of customers. Choose “Customers” and upload it again." in errors(outcome)


def test_unknown_extra_columns_are_ignored_with_a_warning(check):
    outcome = check(
        "customers", customers("C-1,Ann,ann@example.nl,nl,consumer,NL,blue", header=CUSTOMER_HEADER + ",colour")
    )
    assert errors(outcome) == []
    assert warnings(outcome) == ["1|colour|The column colour is not known and was ignored."]
    assert outcome.tally.counts["created"] == 1


def test_a_negative_unit_price_is_a_discount_but_a_negative_quantity_is_not_allowed(check, known_customer):
    outcome = check(
        "invoices",
        invoices(
            "K-1,F-1,2026-10-01,2026-10-15,Stroom,100,kWh,0.25,21",
            "K-1,F-1,2026-10-01,2026-10-15,Vermindering energiebelasting,1,maand,-20.00,21",
            "K-1,F-2,2026-10-01,2026-10-15,Stroom,-100,kWh,0.25,21",
        ),
    )
    assert errors(outcome) == [
        "4|quantity|The quantity cannot be negative. Write a discount as a negative unit price.",
    ]


def test_a_negative_invoice_total_is_an_error_until_credit_notes_exist(check, known_customer):
    outcome = check(
        "invoices",
        invoices(
            "K-1,F-1,2026-10-01,2026-10-15,Stroom,10,kWh,0.25,21",
            "K-1,F-1,2026-10-01,2026-10-15,Vermindering energiebelasting,1,maand,-52.06,21",
        ),
    )
    assert errors(outcome) == [
        "2||The total of invoice F-1 is negative (-€59.97). Credit notes cannot be imported yet.",
    ]


def test_dates_in_another_format_list_the_accepted_formats(check, known_customer):
    outcome = check(
        "invoices",
        invoices("K-1,F-1,2026/10/01,31-02-2026,Stroom,1,kWh,1,21"),
    )
    accepted = "Use YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY, for example 2026-10-31 or 31-10-2026."
    assert errors(outcome) == [
        f"2|due_date|“31-02-2026” is not a date. {accepted}",
        f"2|issue_date|“2026/10/01” is not a date. {accepted}",
    ]


def test_a_customer_twice_in_one_file(check):
    outcome = check(
        "customers",
        customers(
            "C-1,Ann,ann@example.nl,nl,consumer,NL",
            "C-2,Bo,bo@example.nl,nl,consumer,NL",
            "C-1,Ann B,a@b.nl,nl,consumer,NL",
        ),
    )
    assert errors(outcome) == [
        "4|external_ref|The reference C-1 is also in row 2. Each customer can appear only once in a file."
    ]


def test_lines_of_one_invoice_must_agree_on_the_invoice_columns(check, known_customer):
    outcome = check(
        "invoices",
        invoices(
            "K-1,F-1,2026-10-01,2026-10-15,Stroom,1,kWh,1,21",
            "K-1,F-1,01-10-2026,15-10-2026,Gas,1,m3,1,21",  # the same dates, written differently: fine
            "K-1,F-1,2026-10-01,2026-10-16,Vast,1,maand,1,21",
        ),
    )
    assert errors(outcome) == [
        "4|due_date|Invoice F-1 has a different value here than in row 2. "
        "The invoice columns must be the same on every line of an invoice."
    ]


def test_an_unknown_customer_reference(check, known_customer):
    outcome = check("invoices", invoices("K-404,F-1,2026-10-01,2026-10-15,Stroom,1,kWh,1,21"))
    assert errors(outcome) == [
        "2|customer_ref|There is no customer with the reference K-404. Import the customers first."
    ]


def test_invalid_email_language_kind_and_country(check):
    outcome = check("customers", customers("C-1,Ann,ann(at)example.nl,de,person,XY"))
    assert errors(outcome) == [
        "2|country|Unknown country “XY”. Use a two-letter code such as NL or BE.",
        "2|email|“ann(at)example.nl” is not a valid e-mail address.",
        "2|kind|Unknown kind “person”. Use consumer or business.",
        "2|language|Unknown language “de”. Use nl or en.",
    ]


def test_empty_required_cells(check):
    outcome = check("customers", customers(",Ann,,nl,consumer,NL", "C-2,,,nl,,NL"))
    assert errors(outcome) == [
        "2|external_ref|This cell is empty, but it is required.",
        "3|kind|This cell is empty, but it is required.",
        "3|name|This cell is empty, but it is required.",
    ]


def test_due_date_before_issue_date_and_a_period_that_ends_before_it_starts(check, known_customer):
    header = INVOICE_HEADER + ",period_start,period_end"
    outcome = check(
        "invoices",
        invoices(
            "K-1,F-1,2026-10-15,2026-10-01,Stroom,1,kWh,1,21,,",
            "K-1,F-2,2026-10-01,2026-10-15,Stroom,1,kWh,1,21,2026-09-30,2026-09-01",
            header=header,
        ),
    )
    assert errors(outcome) == [
        "2|due_date|The due date is before the issue date.",
        "3|period_end|The period ends before it starts.",
    ]


@pytest.mark.parametrize("rate", ["100", "-1", "121"])
def test_vat_rate_outside_0_to_99(check, known_customer, rate):
    outcome = check("invoices", invoices(f"K-1,F-1,2026-10-01,2026-10-15,Stroom,1,kWh,1,{rate}"))
    assert errors(outcome) == [f"2|vat_rate|The VAT rate must be between 0 and 99 (this says {rate})."]


def test_an_amount_that_does_not_match_quantity_times_price(check, known_customer):
    header = INVOICE_HEADER + ",amount"
    # 3 x 0,33335 = 1,00005: rounded half up to the cent that is 1,00, so 1,00 is right and 0,99 is not.
    right = check("invoices", invoices("K-1,F-1,2026-10-01,2026-10-15,Stroom,3,kWh,0.33335,21,1.00", header=header))
    wrong = check("invoices", invoices("K-1,F-1,2026-10-01,2026-10-15,Stroom,3,kWh,0.33335,21,0.99", header=header))
    assert errors(right) == []
    assert errors(wrong) == ["2|amount|The amount €0.99 does not match quantity × unit price, which is €1.00."]


def test_not_a_number_and_too_many_decimals(check, known_customer):
    outcome = check("invoices", invoices('K-1,F-1,2026-10-01,2026-10-15,Stroom,"1,2345",kWh,€ 1,21'))
    assert errors(outcome) == [
        "2|quantity|“1,2345” has too many decimals: at most 3.",
        "2|unit_price|“€ 1” is not a number. Write numbers like 1234,56 or 1234.56.",
    ]


def test_a_paid_invoice_needs_its_payment_date(check, known_customer):
    header = INVOICE_HEADER + ",state,paid_at"
    outcome = check(
        "invoices",
        invoices(
            "K-1,F-1,2026-10-01,2026-10-15,Stroom,1,kWh,1,21,paid,",
            "K-1,F-2,2026-10-01,2026-10-15,Stroom,1,kWh,1,21,open,2026-10-10",
            "K-1,F-3,2026-10-01,2026-10-15,Stroom,1,kWh,1,21,betaald,",
            header=header,
        ),
    )
    assert errors(outcome) == [
        "2|paid_at|A paid invoice needs the date it was paid, in paid_at.",
        "3|paid_at|paid_at is only for paid invoices: set state to paid, or leave paid_at empty.",
        "4|state|Unknown state “betaald”. Use open, paid or cancelled, or leave it empty.",
    ]


def test_cells_beyond_the_header_and_text_that_is_too_long(check):
    outcome = check(
        "customers", customers("C-1,Ann,ann@example.nl,nl,consumer,NL,extra", f"C-2,{'x' * 201},,nl,consumer,NL")
    )
    assert errors(outcome) == [
        "2||This row has more cells than the first row has column names.",
        "3|name|This is too long: at most 200 characters.",
    ]


def test_a_spreadsheet_workbook_an_empty_file_and_a_header_without_rows(check):
    assert errors(check("customers", b"PK\x03\x04\x14\x00\x06\x00")) == [
        "None||This is a spreadsheet workbook, not a CSV file. In Excel choose Save as, then “CSV UTF-8” or "
        "“CSV (semicolon separated)”, and upload that file."
    ]
    assert errors(check("customers", b"")) == ["None||The file is empty."]
    assert errors(check("customers", CUSTOMER_HEADER + "\n,,,,,\n")) == [
        "None||The file has a first row with column names but no rows below it."
    ]


def test_the_list_of_errors_stops_at_200_but_counts_them_all(check, session):
    rows = [f"C-{n},Person {n},not-an-address,nl,consumer,NL" for n in range(250)]
    outcome = check("customers", customers(*rows))
    assert outcome.problems.count == 250
    assert len(errors(outcome)) == MAX_LISTED_ERRORS == 200
    assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_a_quote_that_never_closes(check):
    content = customers("C-1,Ann,ann@example.nl,nl,consumer,NL", 'C-2,"Bo,bo@example.nl,nl,consumer,NL') + "x" * 140_000
    assert errors(check("customers", content)) == [
        "3||The file cannot be read as CSV from row 3 on. Check the quotes in that row."
    ]
