"""``pause_reason(invoice, at)``: the one answer to "is dunning paused for this invoice, and why".

Each feature that can pause dunning (a payment plan, a promise, a dispute, a failed debit being retried)
registers its own reason from its own package: a code and a SQL condition on the invoices table that holds
while that reason applies at a moment. The first registered reason that holds wins, so a reason registered
earlier is reported before a later one (a plan before a promise); a reason registered with ``first=True`` (a
dispute: what staff must answer before anything else) goes before all, whatever the import order. Nothing
here lists the reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, case, literal, null, select
from sqlalchemy.orm import Session

from portal.invoices.models import Invoice

PauseCondition = Callable[[datetime], ColumnElement[bool]]


@dataclass(frozen=True)
class PauseReason:
    code: str  # "plan", "promise", "dispute", "failed_debit": what the staff and the API are told
    holds_at: PauseCondition  # a condition over Invoice columns (correlated subqueries welcome)
    label: Any = None  # how staff read it ("in a payment plan"), a lazy text of the feature's own


_REASONS: list[PauseReason] = []


def register_pause_reason(
    code: str, holds_at: PauseCondition, *, first: bool = False, label: Any = None
) -> PauseReason:
    if any(reason.code == code for reason in _REASONS):
        raise RuntimeError(f"pause reason {code!r} is registered twice")
    reason = PauseReason(code, holds_at, label)
    _REASONS.insert(0, reason) if first else _REASONS.append(reason)
    return reason


def unregister_pause_reason(code: str) -> None:
    """For a feature switched off at run time, and for tests that add a reason of their own."""
    _REASONS[:] = [reason for reason in _REASONS if reason.code != code]


def registered_reasons() -> list[str]:
    return [reason.code for reason in _REASONS]


def pause_reason_sql(at: datetime) -> ColumnElement[str | None]:
    """The reason dunning is paused for each invoice row at ``at``, or NULL: for set-based runs over invoices."""
    if not _REASONS:
        return null().cast(String)
    return case(*((reason.holds_at(at), literal(reason.code)) for reason in _REASONS), else_=null())


def pause_label(code: str) -> str:
    """The reason as staff read it, after "Reminders paused:"; the code itself for a reason without a label."""
    found = next((reason for reason in _REASONS if reason.code == code), None)
    return str(found.label) if found is not None and found.label is not None else code


def pause_reasons(session: Session, invoice_ids: Collection[int], at: datetime) -> dict[int, str]:
    """{invoice id: why dunning is paused at ``at``} for those of ``invoice_ids`` that are paused: one statement,
    for a page that lists a customer's invoices."""
    if not _REASONS or not invoice_ids:
        return {}
    reason = pause_reason_sql(at)
    rows = session.execute(select(Invoice.id, reason).where(Invoice.id.in_(list(invoice_ids)), reason.is_not(None)))
    return {invoice_id: code for invoice_id, code in rows if code is not None}


def pause_reason(session: Session, invoice: Invoice, at: datetime) -> str | None:
    """Why dunning is paused for ``invoice`` at ``at`` (a reason code), or None when it is not paused."""
    if not _REASONS:
        return None
    return session.scalar(select(pause_reason_sql(at)).where(Invoice.id == invoice.id))
