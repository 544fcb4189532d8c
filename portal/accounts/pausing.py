"""``pause_reason(invoice, at)``: the one answer to "is dunning paused for this invoice, and why".

Each feature that can pause dunning (a payment plan, a promise, a dispute, a failed debit being retried)
registers its own reason from its own package: a code and a SQL condition on the invoices table that holds
while that reason applies at a moment. The first registered reason that holds wins, so a reason registered
earlier is reported before a later one (a plan before a promise); a reason registered with ``first=True`` (a
dispute: what staff must answer before anything else) goes before all, whatever the import order. Nothing
here lists the reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, String, case, literal, null, select
from sqlalchemy.orm import Session

from portal.invoices.models import Invoice

PauseCondition = Callable[[datetime], ColumnElement[bool]]


@dataclass(frozen=True)
class PauseReason:
    code: str  # "plan", "promise", "dispute", "failed_debit": what the staff and the API are told
    holds_at: PauseCondition  # a condition over Invoice columns (correlated subqueries welcome)


_REASONS: list[PauseReason] = []


def register_pause_reason(code: str, holds_at: PauseCondition, *, first: bool = False) -> PauseReason:
    if any(reason.code == code for reason in _REASONS):
        raise RuntimeError(f"pause reason {code!r} is registered twice")
    reason = PauseReason(code, holds_at)
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


def pause_reason(session: Session, invoice: Invoice, at: datetime) -> str | None:
    """Why dunning is paused for ``invoice`` at ``at`` (a reason code), or None when it is not paused."""
    if not _REASONS:
        return None
    return session.scalar(select(pause_reason_sql(at)).where(Invoice.id == invoice.id))
