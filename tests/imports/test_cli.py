"""``flask --app portal import customers FILE`` and ``import invoices FILE``."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.customers.models import Customer
from portal.demo import load_demo_data
from portal.invoices.models import Invoice
from tests.imports.helpers import DATA, EXAMPLES


def test_the_example_files_import_into_an_empty_database_and_a_second_run_changes_nothing(cli, session):
    result = cli("customers", str(EXAMPLES / "customers.csv"))
    assert result.exit_code == 0, result.output
    assert "Read customers.csv as UTF-8, separated by commas." in result.output
    assert "Imported customers: 6 new, 0 updated, 0 unchanged (6 rows" in result.output

    result = cli("invoices", str(EXAMPLES / "invoices.csv"))
    assert result.exit_code == 0, result.output
    assert "separated by semicolons" in result.output
    assert "Imported invoices: 7 new, 0 updated, 0 unchanged (41 lines" in result.output
    assert session.scalar(select(func.count()).select_from(Invoice)) == 7
    assert {v.rate for invoice in session.scalars(select(Invoice)) for v in invoice.vat_totals} == {9, 21}

    again = cli("invoices", str(EXAMPLES / "invoices.csv"))
    assert "Imported invoices: 0 new, 0 updated, 7 unchanged" in again.output
    completed = session.scalars(select(AuditEvent).where(AuditEvent.action == "import.completed")).all()
    assert [(event.actor_id, event.details["created"]) for event in completed] == [("cli", 6), ("cli", 7), ("cli", 0)]


def test_the_example_files_import_into_the_demo_database_without_clashing(app, cli, session):
    with app.app_context():  # as `flask demo load` runs it: the demo dispute's e-mail carries a link
        load_demo_data(session, today=date(2026, 11, 22))
        session.commit()
    demo_customers = session.scalar(select(func.count()).select_from(Customer))

    assert cli("customers", str(EXAMPLES / "customers.csv")).exit_code == 0
    result = cli("invoices", str(EXAMPLES / "invoices.csv"))

    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(Customer)) == demo_customers + 6


def test_a_file_with_errors_imports_nothing_and_says_where(cli, session):
    result = cli("customers", str(DATA / "customers_one_bad_row.csv"))
    assert result.exit_code == 1
    assert "Error: row 4, column email: “cor(at)example.nl” is not a valid e-mail address." in result.output
    assert "1 error(s): nothing was imported." in result.output
    assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_a_dry_run_only_shows_what_would_change(cli, session):
    result = cli("customers", "--dry-run", str(EXAMPLES / "customers.csv"))
    assert result.exit_code == 0, result.output
    assert "Checked customers: 6 new, 0 updated, 0 unchanged" in result.output
    assert "Dry run: nothing was imported." in result.output
    assert session.scalar(select(func.count()).select_from(Customer)) == 0
