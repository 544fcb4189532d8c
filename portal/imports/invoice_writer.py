"""Matching checked invoices to the database by ``invoice_number``, and writing them in bulk.

Per batch of invoices a handful of queries read what exists (customers, invoices, their lines and VAT
totals); the writes are bulk INSERTs, bulk UPDATEs by primary key and one DELETE of the lines being
replaced. No ORM object per row, no query per row: 100,000 lines import in seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.events import Event, emit_many
from portal.imports.columns import shown
from portal.imports.invoice_rows import DEFAULT_CATEGORY, DEFAULT_CURRENCY, InvoiceDraft, Line
from portal.imports.problems import Problems
from portal.imports.tally import BATCH_SIZE, Tally, batches
from portal.invoices import events as invoice_events
from portal.invoices.models import Invoice, InvoiceLine, InvoiceVatTotal
from portal.money import decimal_text

# Declarative maps every model to a Table; SQLAlchemy types __table__ as the wider FromClause, which insert() refuses.
INVOICES = cast(Table, Invoice.__table__)
# Invoices come from the creditor's billing system; the import job's own record says who uploaded the file.
IMPORT_ACTOR = Actor(type="system", id="import")
NO_SYNC = {"synchronize_session": False}  # no ORM objects are loaded, so there is nothing to keep in step


def apply_invoices(
    session: Session,
    drafts: list[InvoiceDraft],
    problems: Problems,
    *,
    write: bool,
    on_progress: Callable[[int], None] | None = None,
) -> Tally:
    """Sort each invoice into created / updated / unchanged; with ``write`` (and no errors anywhere), write it.

    An updated invoice gets its lines and VAT totals replaced. ``on_progress`` receives the number of lines
    handled so far.
    """
    tally = Tally()
    lines_done = 0
    for batch in batches(drafts, BATCH_SIZE):
        creates, updates = _sort_batch(session, batch, problems, tally)
        if write and not problems:
            _write(session, creates, updates)
        lines_done += sum(len(draft.lines) for draft in batch)
        if on_progress:
            on_progress(lines_done)
    return tally


def _sort_batch(
    session: Session, batch: Sequence[InvoiceDraft], problems: Problems, tally: Tally
) -> tuple[list[tuple[InvoiceDraft, int]], list[tuple[InvoiceDraft, int, int]]]:
    customer_ids = dict(
        session.execute(
            select(Customer.external_ref, Customer.id).where(
                Customer.external_ref.in_({draft.customer_ref for draft in batch})
            )
        ).all()
    )
    existing = {
        found.number: found
        for found in session.execute(
            select(Invoice.__table__).where(Invoice.number.in_([draft.number for draft in batch]))
        )
    }
    references = [draft.values["external_ref"] for draft in batch if draft.values.get("external_ref")]
    reference_owners = (
        dict(
            session.execute(
                select(Invoice.external_ref, Invoice.number).where(Invoice.external_ref.in_(references))
            ).all()
        )
        if references
        else {}
    )
    old_lines, old_vat = _lines_of(session, [found.id for found in existing.values()])
    creates: list[tuple[InvoiceDraft, int]] = []
    updates: list[tuple[InvoiceDraft, int, int]] = []
    moved: list[tuple[InvoiceDraft, int]] = []
    for draft in batch:
        customer_id = customer_ids.get(draft.customer_ref)
        reference = draft.values.get("external_ref")
        old = existing.get(draft.number)
        if customer_id is None:
            problems.add(draft.row, "customer_ref", "unknown_customer", value=shown(draft.customer_ref))
        elif reference and reference_owners.get(reference, draft.number) != draft.number:
            problems.add(
                draft.row,
                "external_ref",
                "external_ref_taken",
                value=shown(reference),
                owner=reference_owners[reference],
            )
        elif old is None:
            creates.append((draft, customer_id))
            tally.add("created", _sample(draft))
        elif old.customer_id != customer_id:
            moved.append((draft, old.customer_id))
        elif draft.values["total_cents"] < old.credited_cents:
            # Credit notes made in the portal lowered what is owed; a total below them would owe less than
            # nothing. Said per row, rather than the database refusing the whole import.
            problems.add(
                draft.row,
                "total",
                "total_below_credited",
                number=draft.number,
                credited=decimal_text(old.credited_cents),
            )
        else:
            changes = _changes(old, draft, old_lines.get(old.id, []), old_vat.get(old.id, []))
            if changes:
                updates.append((draft, old.id, customer_id))
                tally.add("updated", {**_sample(draft), "changes": changes})
            else:
                tally.add("unchanged", _sample(draft))
    if moved:
        owners = dict(
            session.execute(
                select(Customer.id, Customer.external_ref).where(Customer.id.in_({owner for _, owner in moved}))
            ).all()
        )
        for draft, owner in moved:
            problems.add(draft.row, "customer_ref", "other_customer", number=draft.number, owner=owners.get(owner, ""))
    return creates, updates


def _lines_of(
    session: Session, invoice_ids: list[int]
) -> tuple[dict[int, list[Line]], dict[int, list[tuple[Any, int, int]]]]:
    lines: dict[int, list[Line]] = defaultdict(list)
    vat: dict[int, list[tuple[Any, int, int]]] = defaultdict(list)
    if not invoice_ids:
        return lines, vat
    line_columns = InvoiceLine.__table__.c
    for found in session.execute(
        select(InvoiceLine.__table__)
        .where(line_columns.invoice_id.in_(invoice_ids))
        .order_by(line_columns.invoice_id, line_columns.position)
    ):
        lines[found.invoice_id].append(
            Line(found.description, found.quantity, found.unit, found.unit_price, found.vat_rate, found.amount_cents)
        )
    vat_columns = InvoiceVatTotal.__table__.c
    for found in session.execute(
        select(InvoiceVatTotal.__table__)
        .where(vat_columns.invoice_id.in_(invoice_ids))
        .order_by(vat_columns.invoice_id, vat_columns.rate)
    ):
        vat[found.invoice_id].append((found.rate, found.base_cents, found.vat_cents))
    return lines, vat


def _changes(old: Any, draft: InvoiceDraft, lines: list[Line], vat: list[tuple[Any, int, int]]) -> list[str]:
    """The invoice columns that differ, plus "lines" when a line or a VAT total does. Decimals compare by value."""
    changes = [name for name, value in draft.values.items() if getattr(old, name) != value]
    if lines != draft.lines or vat != draft.vat_totals:
        changes.append("lines")
    return changes


def _sample(draft: InvoiceDraft) -> dict[str, Any]:
    return {
        "row": draft.row,
        "number": draft.number,
        "customer_ref": draft.customer_ref,
        "issue_date": draft.values["issue_date"].isoformat(),
        "total_cents": draft.values["total_cents"],
        "currency": draft.values.get("currency") or DEFAULT_CURRENCY,
        "lines": len(draft.lines),
    }


def _write(
    session: Session, creates: list[tuple[InvoiceDraft, int]], updates: list[tuple[InvoiceDraft, int, int]]
) -> None:
    invoice_ids: list[tuple[InvoiceDraft, int]] = []
    if creates:
        # Core INSERTs into the tables: the ORM's bulk path adds nothing here but time per row. The new ids
        # are read back by number, which is faster on PostgreSQL than INSERT ... RETURNING for many rows.
        session.execute(insert(INVOICES), [_new_invoice(draft, customer_id) for draft, customer_id in creates])
        numbers = [draft.number for draft, _ in creates]
        ids = dict(
            session.execute(select(INVOICES.c.number, INVOICES.c.id).where(INVOICES.c.number.in_(numbers))).all()
        )
        invoice_ids.extend((draft, ids[draft.number]) for draft, _ in creates)
        emit_many(session, _issued_events(creates))
    if updates:
        replaced = [invoice_id for _, invoice_id, _ in updates]
        session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(replaced)), execution_options=NO_SYNC)
        session.execute(
            delete(InvoiceVatTotal).where(InvoiceVatTotal.invoice_id.in_(replaced)), execution_options=NO_SYNC
        )
        newly_paid = _newly_paid(session, updates)
        session.execute(update(Invoice), [{"id": invoice_id, **draft.values} for draft, invoice_id, _ in updates])
        emit_many(
            session,
            (
                invoice_events.paid(
                    SimpleNamespace(**_new_invoice(draft, customer_id)),
                    IMPORT_ACTOR,
                    by="billing",
                    at=draft.values.get("paid_at"),
                )
                for draft, invoice_id, customer_id in updates
                if invoice_id in newly_paid
            ),
        )
        invoice_ids.extend((draft, invoice_id) for draft, invoice_id, _ in updates)
    lines = [
        {"invoice_id": invoice_id, "position": position, **line._asdict()}
        for draft, invoice_id in invoice_ids
        for position, line in enumerate(draft.lines, start=1)
    ]
    vat = [
        {"invoice_id": invoice_id, "rate": rate, "base_cents": base, "vat_cents": amount}
        for draft, invoice_id in invoice_ids
        for rate, base, amount in draft.vat_totals
    ]
    _settle_paid_cents(session, [invoice_id for _, invoice_id in invoice_ids])
    if lines:
        session.execute(insert(cast(Table, InvoiceLine.__table__)), lines)
    if vat:
        session.execute(insert(cast(Table, InvoiceVatTotal.__table__)), vat)


def _newly_paid(session: Session, updates: list[tuple[InvoiceDraft, int, int]]) -> set[int]:
    """The invoices this import marks paid that were not paid before: their payment is news for the story."""
    marked_paid = [invoice_id for draft, invoice_id, _ in updates if draft.values.get("state") == "paid"]
    if not marked_paid:
        return set()
    return set(session.scalars(select(Invoice.id).where(Invoice.id.in_(marked_paid), Invoice.state != "paid")))


def _issued_events(creates: list[tuple[InvoiceDraft, int]]) -> Iterator[Event]:
    for draft, customer_id in creates:
        invoice = SimpleNamespace(**_new_invoice(draft, customer_id))
        yield invoice_events.issued(invoice, IMPORT_ACTOR)
        if invoice.state == "paid":
            yield invoice_events.paid(invoice, IMPORT_ACTOR, by="billing", at=invoice.paid_at)


def _settle_paid_cents(session: Session, invoice_ids: list[int]) -> None:
    """Keep what was paid in step with the billing system's word: an invoice it calls paid is paid in full,
    and an invoice the portal has been paid in full for stays paid whatever the file says."""
    now = clock.now()
    for start in range(0, len(invoice_ids), 10_000):
        chunk = invoice_ids[start : start + 10_000]
        settling = Invoice.id.in_(chunk), Invoice.state == "open", Invoice.paid_cents > 0
        settled = session.execute(
            select(Invoice.customer_id, Invoice.number, Invoice.total_cents, Invoice.currency).where(
                *settling, Invoice.paid_cents + Invoice.credited_cents >= Invoice.total_cents
            )
        ).all()
        emit_many(session, (invoice_events.paid(row, IMPORT_ACTOR, by="billing", at=now) for row in settled))
        session.execute(
            update(Invoice)
            .where(Invoice.id.in_(chunk), Invoice.state == "paid")
            .values(paid_cents=Invoice.total_cents - Invoice.credited_cents)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Invoice)
            .where(
                Invoice.id.in_(chunk),
                Invoice.state == "open",
                Invoice.paid_cents > 0,
                Invoice.paid_cents + Invoice.credited_cents >= Invoice.total_cents,
            )
            .values(state="paid", paid_at=now)
            .execution_options(synchronize_session=False)
        )


def _new_invoice(draft: InvoiceDraft, customer_id: int) -> dict[str, Any]:
    """Every column, so the bulk INSERT sends one statement shape."""
    return {
        "customer_id": customer_id,
        "number": draft.number,
        "external_ref": None,
        "category": DEFAULT_CATEGORY,
        "currency": DEFAULT_CURRENCY,
        "period_start": None,
        "period_end": None,
        "state": "open",
        "paid_at": None,
        **draft.values,
    }
