"""What the debtor's overview shows of direct debit, read in one query (after a cheap EXISTS, which is all that
most debtors, who pay otherwise, cost): the mandate, the next debits, what was collected before, a failed debit
waiting for a choice, and which open invoices a debit will collect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from portal.accounts.presence import register_presence_check
from portal.debits import rules
from portal.debits.models import Debit, DebitSchedule, Mandate
from portal.debits.services import WAITING, upcoming_debits
from portal.invoices.models import Invoice

HISTORY_LENGTH = 6


@dataclass(frozen=True)
class DirectDebitView:
    schedule: DebitSchedule
    mandate: Mandate
    upcoming: list[rules.PlannedDebit]
    history: list[Debit]  # collected and failed, newest first
    failed: list[Debit]  # failed and waiting for the debtor's choice
    collects: dict[str, date] = field(default_factory=dict)  # open invoice number -> the debit date


def schedule_with_debits(session: Session, customer_id: int, *, has_any: bool | None = None) -> DebitSchedule | None:
    """The customer's running schedule on an active mandate, with its mandate and debits: one statement, after a
    cheap one that finds there is none (most debtors). ``has_any``: the answer of ``features_present`` for
    PRESENCE, when the page asked it already."""
    # Most debtors pay otherwise: a cheap statement tells, and spares them the load of the joined rows (the
    # ORM's set-up of three joined loaders costs more than the query, even when it finds nothing).
    if has_any is None:
        has_any = bool(session.scalar(_HAS_RUNNING_SCHEDULE, {"customer_id": customer_id}))
    if not has_any:
        return None
    return session.scalars(_RUNNING_SCHEDULE, {"customer_id": customer_id}).unique().first()


# Built once: the overview asks them on every view, and building them costs more than running them.
_RUNNING_SCHEDULE_OF_ONE = (
    DebitSchedule.customer_id == bindparam("customer_id"),
    DebitSchedule.ended_at.is_(None),
    Mandate.status == "active",
)
_EXISTS_RUNNING_SCHEDULE = (
    select(DebitSchedule.id).join(Mandate, Mandate.id == DebitSchedule.mandate_id).where(*_RUNNING_SCHEDULE_OF_ONE)
).exists()
_HAS_RUNNING_SCHEDULE = select(_EXISTS_RUNNING_SCHEDULE)
PRESENCE = register_presence_check("direct_debit", _EXISTS_RUNNING_SCHEDULE).name
_RUNNING_SCHEDULE = (
    select(DebitSchedule)
    .join(Mandate, Mandate.id == DebitSchedule.mandate_id)
    .where(*_RUNNING_SCHEDULE_OF_ONE)
    .options(
        joinedload(DebitSchedule.mandate),
        # With what each collected: a debit takes no more than is still owed on its invoice.
        joinedload(DebitSchedule.debits).joinedload(Debit.payment),
    )
    .order_by(DebitSchedule.id.desc())
)


def collecting_debit(debit: Debit, invoice: Invoice) -> bool:
    """Whether ``debit``, still to come, is the one that collects ``invoice`` (once handed over it names the
    invoice; before that, the invoice of its period is the one whose period starts in that month)."""
    if debit.state not in WAITING or debit.currency != invoice.currency:
        return False
    if debit.invoice_id is not None:
        return debit.invoice_id == invoice.id
    return invoice.period_start is not None and rules.period_of(invoice.period_start) == debit.period


def collection_dates(schedule: DebitSchedule | None, open_invoices: Sequence[Invoice]) -> dict[str, date]:
    """{invoice number: the date a notified or handed-over debit collects it} for the open invoices."""
    if schedule is None:
        return {}
    found = {}
    for invoice in open_invoices:
        for debit in schedule.debits:
            if collecting_debit(debit, invoice):
                found[invoice.number] = debit.due_on
                break
    return found


def direct_debit_view(
    session: Session,
    customer_id: int,
    open_invoices: Sequence[Invoice],
    *,
    today: date,
    has_any: bool | None = None,
) -> DirectDebitView | None:
    schedule = schedule_with_debits(session, customer_id, has_any=has_any)
    if schedule is None:
        return None
    done = [debit for debit in schedule.debits if debit.state in ("collected", "failed")]
    done.sort(key=lambda debit: (debit.due_on, debit.id), reverse=True)
    # A failed debit whose invoice was paid since needs no choice any more.
    open_ids = {invoice.id for invoice in open_invoices}
    return DirectDebitView(
        schedule=schedule,
        mandate=schedule.mandate,
        upcoming=upcoming_debits(session, schedule, today=today),
        history=done[:HISTORY_LENGTH],
        failed=[d for d in done if d.state == "failed" and d.choice is None and d.invoice_id in open_ids],
        collects=collection_dates(schedule, open_invoices),
    )
