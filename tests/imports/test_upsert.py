"""Upsert by reference: a second import of the same file changes nothing; a file with an error imports nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.customers.models import Customer
from portal.events.models import DomainEvent
from portal.invoices.models import Invoice, InvoiceLine, InvoiceVatTotal
from tests.imports.helpers import DATA, EXAMPLES, errors


def snapshot(session) -> dict[str, list[tuple]]:
    """Every row of every table an import writes, ids and creation times included."""
    session.expire_all()
    tables = {"customers": Customer, "invoices": Invoice, "lines": InvoiceLine, "vat": InvoiceVatTotal}
    return {
        name: [tuple(row) for row in session.execute(select(model.__table__).order_by(*model.__table__.primary_key))]
        for name, model in tables.items()
    }


def test_importing_the_same_files_twice_changes_nothing(do_import, check, session):
    customers, invoices = (EXAMPLES / "customers.csv").read_bytes(), (EXAMPLES / "invoices.csv").read_bytes()
    assert do_import("customers", customers).tally.counts == {"created": 6, "updated": 0, "unchanged": 0}
    assert do_import("invoices", invoices).tally.counts == {"created": 7, "updated": 0, "unchanged": 0}
    before = snapshot(session)

    assert check("customers", customers).tally.counts == {"created": 0, "updated": 0, "unchanged": 6}
    assert check("invoices", invoices).tally.counts == {"created": 0, "updated": 0, "unchanged": 7}
    assert do_import("customers", customers).tally.counts == {"created": 0, "updated": 0, "unchanged": 6}
    assert do_import("invoices", invoices).tally.counts == {"created": 0, "updated": 0, "unchanged": 7}

    assert snapshot(session) == before
    assert len(before["lines"]) == 41 and len(before["vat"]) == 9


def test_a_file_with_one_bad_row_among_good_ones_imports_nothing(do_import, session, create_customer):
    create_customer(external_ref="T-3202", name="Bram de Wit (old)", email="old@example.nl")
    before = snapshot(session)

    outcome = do_import("customers", (DATA / "customers_one_bad_row.csv").read_bytes())

    assert errors(outcome) == ["4|email|“cor(at)example.nl” is not a valid e-mail address."]
    assert not outcome.imported
    assert snapshot(session) == before, "neither the new customers nor the update of T-3202 were written"
    failed = session.scalars(select(AuditEvent).where(AuditEvent.action == "import.failed")).one()
    assert failed.details["errors"] == 1 and failed.details["kind"] == "customers"


def test_an_invoice_error_found_late_rolls_back_what_was_already_written(do_import, session, create_customer):
    """Errors found while matching against the database (unknown customer) come after the first batches."""
    create_customer(external_ref="K-1")
    rows = [f"K-1,F-{n:05d},2026-10-01,2026-10-15,Stroom,1,kWh,1,21" for n in range(2500)]
    rows.append("K-404,F-99999,2026-10-01,2026-10-15,Stroom,1,kWh,1,21")
    header = "customer_ref,invoice_number,issue_date,due_date,description,quantity,unit,unit_price,vat_rate"
    outcome = do_import("invoices", "\n".join([header, *rows]))
    assert errors(outcome) == [
        "2502|customer_ref|There is no customer with the reference K-404. Import the customers first."
    ]
    assert session.scalars(select(Invoice)).all() == []


def test_a_changed_customer_is_updated_and_the_others_are_left_alone(do_import, session):
    header = "external_ref,name,email,phone,language,kind,country"
    do_import(
        "customers", f"{header}\nC-1,Ann,ann@example.nl,,nl,consumer,NL\nC-2,Bo,bo@example.nl,06 1,nl,consumer,NL"
    )
    created = {c.external_ref: (c.id, c.created_at) for c in session.scalars(select(Customer))}

    outcome = do_import(
        "customers", f"{header}\nC-1,Ann,ann.new@example.nl,,en,consumer,NL\nC-2,Bo,bo@example.nl,06 1,nl,consumer,NL"
    )

    assert outcome.tally.counts == {"created": 0, "updated": 1, "unchanged": 1}
    assert outcome.tally.samples["updated"] == [
        {"row": 2, "ref": "C-1", "name": "Ann", "changes": ["email", "language"]}
    ]
    session.expire_all()
    ann = session.scalars(select(Customer).where(Customer.external_ref == "C-1")).one()
    assert (ann.email, ann.language) == ("ann.new@example.nl", "en")
    assert {c.external_ref: (c.id, c.created_at) for c in session.scalars(select(Customer))} == created


def test_a_column_left_out_of_the_file_keeps_what_the_portal_has(do_import, session, create_customer):
    create_customer(
        external_ref="C-1", name="Ann", email="ann@example.nl", phone="+31 6 1", time_zone="Europe/Brussels"
    )
    outcome = do_import(
        "customers", "external_ref,name,email,language,kind,country\nC-1,Ann,ann@example.nl,nl,consumer,NL"
    )
    assert outcome.tally.counts["unchanged"] == 1
    ann = session.scalars(select(Customer).where(Customer.external_ref == "C-1")).one()
    assert (ann.phone, ann.time_zone, ann.street) == ("+31 6 1", "Europe/Brussels", "Dorpsstraat 1")


def test_a_changed_invoice_gets_its_lines_and_vat_replaced(do_import, session, create_customer):
    create_customer(external_ref="K-1")
    header = "customer_ref,invoice_number,issue_date,due_date,description,quantity,unit,unit_price,vat_rate"
    first = "K-1,F-1,2026-10-01,2026-10-15,Stroom,100,kWh,0.25,21"
    do_import("invoices", f"{header}\n{first}\nK-1,F-2,2026-10-01,2026-10-15,Gas,10,m3,1.28760,21")
    other_before = [row for row in snapshot(session)["lines"] if row[3] == "Gas"]

    outcome = do_import(
        "invoices",
        f"{header}\n{first}\nK-1,F-1,2026-10-01,2026-10-15,Onderhoud,1,kwartaal,89,9\n"
        "K-1,F-2,2026-10-01,2026-10-15,Gas,10,m3,1.28760,21",
    )

    assert outcome.tally.counts == {"created": 0, "updated": 1, "unchanged": 1}
    assert outcome.tally.samples["updated"][0]["changes"] == ["subtotal_cents", "vat_cents", "total_cents", "lines"]
    session.expire_all()
    invoice = session.scalars(select(Invoice).where(Invoice.number == "F-1")).one()
    assert [(line.position, line.description) for line in invoice.lines] == [(1, "Stroom"), (2, "Onderhoud")]
    assert [(int(v.rate), v.base_cents, v.vat_cents) for v in invoice.vat_totals] == [(9, 8900, 801), (21, 2500, 525)]
    assert (invoice.subtotal_cents, invoice.vat_cents, invoice.total_cents) == (11400, 1326, 12726)
    assert [row for row in snapshot(session)["lines"] if row[3] == "Gas"] == other_before, "F-2 kept its line rows"


def test_totals_are_computed_exactly_as_the_billing_system_does(do_import, session, create_customer, create_invoice):
    customer = create_customer(external_ref="K-1")
    lines = [("Stroom normaal", "142.345", "kWh", "0.27350", "21"), ("Korting", "1", "maand", "-12.345", "21")]
    lines += [("Onderhoud", "1", "kwartaal", "89.005", "9")]
    reference = create_invoice(customer, lines=lines, number="REF-1")
    header = "customer_ref,invoice_number,issue_date,due_date,description,quantity,unit,unit_price,vat_rate"
    rows = [f"K-1,F-1,2026-10-01,2026-10-15,{d},{q},{u},{p},{r}" for d, q, u, p, r in lines]
    do_import("invoices", "\n".join([header, *rows]))
    imported = session.scalars(select(Invoice).where(Invoice.number == "F-1")).one()
    assert [line.amount_cents for line in imported.lines] == [line.amount_cents for line in reference.lines]
    assert [(v.rate, v.base_cents, v.vat_cents) for v in imported.vat_totals] == [
        (v.rate, v.base_cents, v.vat_cents) for v in reference.vat_totals
    ]
    assert (imported.subtotal_cents, imported.vat_cents, imported.total_cents) == (
        reference.subtotal_cents,
        reference.vat_cents,
        reference.total_cents,
    )


def test_an_empty_state_keeps_an_invoice_paid_through_the_portal_paid(do_import, session, create_customer):
    create_customer(external_ref="K-1")
    header = (
        "customer_ref,invoice_number,issue_date,due_date,description,quantity,unit,unit_price,vat_rate,state,paid_at"
    )
    row = "K-1,F-1,2026-10-01,2026-10-15,Stroom,1,kWh,1,21"
    do_import("invoices", f"{header}\n{row},,")
    invoice = session.scalars(select(Invoice)).one()
    invoice.state, invoice.paid_at = "paid", datetime(2026, 10, 12, 9, 30, tzinfo=UTC)
    session.commit()

    assert do_import("invoices", f"{header}\n{row},,").tally.counts["unchanged"] == 1
    outcome = do_import("invoices", f"{header}\n{row},paid,2026-10-12 11:30")
    assert outcome.tally.counts["unchanged"] == 1, "11:30 in Amsterdam is 09:30 UTC: the same moment"
    session.expire_all()
    assert session.scalars(select(Invoice)).one().state == "paid"


def test_an_import_cannot_move_an_invoice_or_take_another_invoices_reference(do_import, session, create_customer):
    create_customer(external_ref="K-1")
    create_customer(external_ref="K-2")
    header = (
        "customer_ref,invoice_number,external_ref,issue_date,due_date,description,quantity,unit,unit_price,vat_rate"
    )
    do_import("invoices", f"{header}\nK-1,F-1,EXT-1,2026-10-01,2026-10-15,Stroom,1,kWh,1,21")

    outcome = do_import(
        "invoices",
        f"{header}\nK-2,F-1,EXT-1,2026-10-01,2026-10-15,Stroom,1,kWh,1,21\n"
        "K-2,F-2,EXT-1,2026-10-01,2026-10-15,Stroom,1,kWh,1,21",
    )
    assert errors(outcome) == [
        "2|customer_ref|Invoice F-1 belongs to customer K-1. An import cannot move an invoice to another customer.",
        "3|external_ref|The reference EXT-1 is also used by invoice F-1 in this file.",
    ]


HEADER = "customer_ref,invoice_number,issue_date,due_date,description,quantity,unit,unit_price,vat_rate,state,paid_at"


def test_an_invoice_the_billing_system_calls_paid_owes_nothing_after_a_part_payment(
    do_import, session, create_customer
):
    create_customer(external_ref="P-1")
    do_import("invoices", f"{HEADER}\nP-1,PP-1,2026-10-01,2026-10-15,Stroom,100,kWh,1,21,,")
    invoice = session.scalars(select(Invoice).where(Invoice.number == "PP-1")).one()
    invoice.paid_cents = 2_000  # part-paid through the portal; the rest came by bank transfer
    session.commit()
    do_import("invoices", f"{HEADER}\nP-1,PP-1,2026-10-01,2026-10-15,Stroom,100,kWh,1,21,paid,2026-10-20 10:00")
    session.expire_all()
    invoice = session.scalars(select(Invoice).where(Invoice.number == "PP-1")).one()
    assert (invoice.state, invoice.paid_cents, invoice.outstanding_cents) == ("paid", invoice.total_cents, 0)


def test_an_invoice_paid_in_full_through_the_portal_stays_paid_when_the_file_still_says_open(
    do_import, session, create_customer
):
    create_customer(external_ref="P-2")
    do_import("invoices", f"{HEADER}\nP-2,PP-2,2026-10-01,2026-10-15,Stroom,10,kWh,1,21,,")
    invoice = session.scalars(select(Invoice).where(Invoice.number == "PP-2")).one()
    invoice.paid_cents = invoice.total_cents
    invoice.state, invoice.paid_at = "paid", datetime(2026, 10, 12, 9, 30, tzinfo=UTC)
    session.commit()
    # A lower total (a correction) and "open": the portal's money still covers it.
    do_import("invoices", f"{HEADER}\nP-2,PP-2,2026-10-01,2026-10-15,Stroom,5,kWh,1,21,open,")
    session.expire_all()
    invoice = session.scalars(select(Invoice).where(Invoice.number == "PP-2")).one()
    assert invoice.state == "paid" and invoice.outstanding_cents == 0


def test_the_customers_story_tells_an_invoice_issued_and_later_paid_by_the_billing_system(
    do_import, session, create_customer
):
    customer = create_customer(external_ref="P-3")
    do_import("invoices", f"{HEADER}\nP-3,PP-3,2026-10-01,2026-10-15,Stroom,100,kWh,1,21,,")
    do_import("invoices", f"{HEADER}\nP-3,PP-3,2026-10-01,2026-10-15,Stroom,100,kWh,1,21,paid,2026-10-20 10:00")
    do_import("invoices", f"{HEADER}\nP-3,PP-3,2026-10-01,2026-10-15,Stroom,100,kWh,1,21,paid,2026-10-20 10:00")
    events = session.scalars(
        select(DomainEvent).where(DomainEvent.customer_id == customer.id).order_by(DomainEvent.id)
    ).all()
    assert [(event.kind, event.subject_id) for event in events] == [
        ("invoice.issued", "PP-3"),
        ("invoice.paid", "PP-3"),
    ], "issued once, paid once, however often the same file comes in"
    assert events[1].occurred_at == datetime(2026, 10, 20, 8, 0, tzinfo=UTC)  # 10:00 summer time in Amsterdam


def test_a_total_below_the_portal_s_credit_notes_is_a_row_error_not_a_failed_import(do_import, session):
    customers, invoices = (EXAMPLES / "customers.csv").read_bytes(), (EXAMPLES / "invoices.csv").read_bytes()
    do_import("customers", customers)
    do_import("invoices", invoices)
    invoice = session.scalars(select(Invoice).order_by(Invoice.id)).first()
    invoice.credited_cents = invoice.total_cents  # credited in full in the portal
    session.commit()
    rows = invoices.decode().splitlines()
    columns = rows[0].split(";")
    kept = [rows[0]]
    for row in rows[1:]:
        cells = row.split(";")
        if cells[columns.index("invoice_number")] == invoice.number:
            cells[columns.index("quantity")], cells[columns.index("amount")] = "0", "0,00"
            kept.append(";".join(cells))
    lowered = "\n".join(kept) + "\n"

    outcome = do_import("invoices", lowered.encode())

    assert not outcome.imported
    assert any("has credit notes of" in error and invoice.number in error for error in errors(outcome))
