"""The customers file: one row per customer, matched to the database by ``external_ref``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, cast
from zoneinfo import available_timezones

from babel import Locale
from babel.core import get_global
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Table as SqlTable
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.debits.policy import DebitPolicy, debit_policy
from portal.imports import customer_mandates
from portal.imports.columns import ABSENT, Cells, Column, map_header, shown
from portal.imports.customer_mandates import (
    KnownMandates,
    MandatePlan,
    MandateRow,
    plan_mandate,
    read_mandate,
    write_mandate,
)
from portal.imports.parsing import Table
from portal.imports.problems import Problem, Problems
from portal.imports.tally import BATCH_SIZE, PROGRESS_EVERY, Tally, batches

COLUMNS = [
    Column("external_ref", required=True, cell_required=True, max_length=64),
    Column("name", required=True, cell_required=True, max_length=200),
    Column("email", required=True, max_length=254),
    Column("phone", max_length=32),
    Column("language", required=True, cell_required=True),
    Column("kind", required=True, cell_required=True),
    Column("country", required=True, cell_required=True),
    Column("street", max_length=200),
    Column("postal_code", max_length=16),
    Column("city", max_length=100),
    Column("time_zone", max_length=64),
    *customer_mandates.COLUMNS,  # optional: a mandate and collection schedule (customer_mandates.py)
]
BY_NAME = {column.name: column for column in COLUMNS}
FIELDS = ("name", "email", "phone", "language", "kind", "country", "street", "postal_code", "city", "time_zone")
DEFAULT_TIME_ZONE = "Europe/Amsterdam"
LANGUAGES = frozenset({"nl", "en"})
KINDS = frozenset({"consumer", "business"})


@cache
def countries() -> frozenset[str]:
    """ISO 3166 two-letter codes (CLDR's territories that have a currency, without EU and ZZ)."""
    named = {code for code in Locale("en").territories if isinstance(code, str) and len(code) == 2 and code.isalpha()}
    return frozenset((named & set(get_global("territory_currencies"))) - {"EU", "ZZ"})


@cache
def time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=65536)
def normalise_email(value: str) -> str | None:
    """Addresses are kept in lower case: that is how people type them when they ask for a fresh link."""
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


@dataclass
class CustomerRow:
    row: int
    external_ref: str
    values: dict[str, Any]  # only the columns the file has; empty optional cells are None
    mandate: MandateRow | None = None


def read_customers(
    table: Table, problems: Problems, on_row: Callable[[int], None] | None = None
) -> tuple[list[CustomerRow], list[Problem]]:
    """Check every row on its own and against the others; rows with errors are left out (and reported)."""
    index, warnings = map_header(table, COLUMNS, problems, ("invoice_number", "looks_like_invoices"))
    if problems:
        return [], warnings
    width = len(table.header)
    customers: list[CustomerRow] = []
    first_row: dict[str, int] = {}
    first_mandate_row: dict[str, int] = {}
    for count, (row, raw) in enumerate(table.rows, start=1):
        if on_row and count % PROGRESS_EVERY == 0:
            on_row(count)
        cells = Cells(row, raw, index, BY_NAME, problems, width)
        ref = cells.text("external_ref")
        values = _values(cells)
        mandate = read_mandate(cells, first_mandate_row)
        if isinstance(ref, str):
            if ref in first_row:
                cells.error("external_ref", "duplicate_customer", value=shown(ref), other_row=first_row[ref])
            else:
                first_row[ref] = row
        if isinstance(ref, str) and not cells.failed:
            customers.append(CustomerRow(row, ref, values, mandate))
    return customers, warnings


def _values(cells: Cells) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": cells.text("name"),
        "email": cells.text("email"),
        "phone": cells.text("phone"),
        "language": cells.choice("language", LANGUAGES, "unknown_language"),
        "kind": cells.choice("kind", KINDS, "unknown_kind"),
        "country": cells.choice("country", countries(), "unknown_country", upper=True),
        "street": cells.text("street"),
        "postal_code": cells.text("postal_code"),
        "city": cells.text("city"),
        "time_zone": cells.text("time_zone"),
    }
    if isinstance(values["email"], str):
        values["email"] = normalise_email(values["email"])
        if values["email"] is None:
            cells.error("email", "invalid_email", value=shown(str(cells.raw("email"))))
    zone = values["time_zone"]
    if zone is None:
        values["time_zone"] = DEFAULT_TIME_ZONE
    elif isinstance(zone, str) and zone not in time_zones():
        cells.error("time_zone", "unknown_time_zone", value=shown(zone))
    return {name: value for name, value in values.items() if value is not ABSENT}


def apply_customers(
    session: Session,
    customers: list[CustomerRow],
    problems: Problems,
    *,
    write: bool,
    on_progress: Callable[[int], None] | None = None,
    actor: Actor | None = None,
) -> Tally:
    """Sort each row into created / updated / unchanged; with ``write`` (and no errors anywhere), write it.

    One query per batch reads the existing customers; writes are bulk INSERTs and UPDATEs by primary key.
    Mandates and schedules (few, and each with its events) are written one by one after their customers.
    ``actor`` is who the mandate events name; only needed with ``write``.
    """
    tally = Tally()
    done = 0
    policy = debit_policy(session) if any(customer.mandate for customer in customers) else None
    for batch in batches(customers, BATCH_SIZE):
        refs = [customer.external_ref for customer in batch]
        columns = [getattr(Customer, name) for name in FIELDS]
        existing = {
            found.external_ref: found
            for found in session.execute(
                select(Customer.id, Customer.external_ref, *columns).where(Customer.external_ref.in_(refs))
            )
        }
        creates: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        plans: dict[str, MandatePlan] = {}
        known = KnownMandates.load(session, [customer.mandate.reference for customer in batch if customer.mandate])
        for customer in batch:
            old = existing.get(customer.external_ref)
            sample = {"row": customer.row, "ref": customer.external_ref, "name": customer.values["name"]}
            plan = _plan(session, customer, old, policy, known, problems)
            if plan is not None and plan.action != "unchanged":
                plans[customer.external_ref] = plan
            if old is None:
                creates.append(_new_customer(customer))
                tally.add("created", sample)
                continue
            changes = [name for name, value in customer.values.items() if getattr(old, name) != value]
            changes += plan.changes if plan else []
            if changes:
                updates.append({"id": old.id, **customer.values})
                tally.add("updated", {**sample, "changes": changes})
            else:
                tally.add("unchanged", sample)
        if write and not problems:
            if creates:
                # The mapped table is a Table; SQLAlchemy types __table__ as the wider FromClause.
                session.execute(insert(cast(SqlTable, Customer.__table__)), creates)
            if updates:
                session.execute(update(Customer), updates)
            if plans:
                assert actor is not None, "writing mandates needs the actor the events name"
                _write_mandates(session, plans, actor)
        done += len(batch)
        if on_progress:
            on_progress(done)
    return tally


def _plan(
    session: Session,
    customer: CustomerRow,
    old: Any,
    policy: DebitPolicy | None,
    known: KnownMandates,
    problems: Problems,
) -> MandatePlan | None:
    if customer.mandate is None or policy is None:
        return None
    zone = customer.values.get("time_zone") or (old.time_zone if old is not None else None) or DEFAULT_TIME_ZONE
    return plan_mandate(
        session,
        customer.row,
        customer.mandate,
        old.id if old is not None else None,
        known=known,
        zone=zone,
        policy=policy,
        problems=problems,
    )


def _write_mandates(session: Session, plans: dict[str, MandatePlan], actor: Actor) -> None:
    found = session.scalars(
        select(Customer).where(Customer.external_ref.in_(list(plans))).execution_options(populate_existing=True)
    )
    for customer in found.all():
        write_mandate(session, plans[customer.external_ref], customer, actor=actor)


def _new_customer(customer: CustomerRow) -> dict[str, Any]:
    """Every column, so the bulk INSERT sends one statement shape; absent optional columns get defaults."""
    record: dict[str, Any] = dict.fromkeys(FIELDS)
    record["time_zone"] = DEFAULT_TIME_ZONE
    record.update(customer.values)
    record["external_ref"] = customer.external_ref
    return record
