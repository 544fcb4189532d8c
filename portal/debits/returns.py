"""Applying the bank's returns to our debits, each return once, however often its file is read.

A return names the debit by the end-to-end id of its attempt, which is the external id of that attempt's
bank Payment. A payment still pending at the bank fails (``apply_status``, with the reason code); one
counted as paid on its date is taken back as a chargeback (``record_reversal``, with the reason code).
Either way the payment's event reaches ``portal.debits.outcomes``, which fails the debit, pauses dunning and
tells the debtor what they can do. Each return is recorded as a ``DebitReturn`` (unique by the bank's id),
and one attempt is returned at most once, so a second reading of the same file, or the same return in
another format, changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.debits.models import Debit, DebitReturn
from portal.debits.returns_files import BankReturn, read_returns_file
from portal.payments.models import Payment
from portal.payments.reversals import record_reversal
from portal.payments.services import apply_status, lock_payment
from portal.providers.base import ProviderStatus, Reversal

log = logging.getLogger(__name__)
BANK = "bank"


@dataclass
class ReturnsReport:
    kind: str
    failed: list[BankReturn] = field(default_factory=list)  # pending at the bank: the debit failed
    reversed: list[BankReturn] = field(default_factory=list)  # counted as paid: taken back
    already: list[BankReturn] = field(default_factory=list)  # recorded before: nothing changed
    unknown: list[BankReturn] = field(default_factory=list)  # no bank debit has this end-to-end id
    ignored: int = 0  # entries in the file that are no return

    @property
    def applied(self) -> int:
        return len(self.failed) + len(self.reversed)


def import_returns(session: Session, content: bytes, *, file_name: str | None, actor: Actor) -> ReturnsReport:
    """Read a returns file (camt.054, pain.002 or CSV) and apply every return in it not applied before.

    Raises BankFileProblem, having changed nothing, when the file cannot be read. The caller commits.
    """
    parsed = read_returns_file(content)
    report = ReturnsReport(kind=parsed.kind, ignored=parsed.ignored)
    for bank_return in parsed.returns:
        _apply(session, bank_return, file_name=file_name, actor=actor, report=report)
    log.info(
        "returns file %s (%s): %s applied, %s known already, %s unknown",
        file_name,
        parsed.kind,
        report.applied,
        len(report.already),
        len(report.unknown),
    )
    return report


def _apply(
    session: Session, bank_return: BankReturn, *, file_name: str | None, actor: Actor, report: ReturnsReport
) -> None:
    payment_id = session.scalar(
        select(Payment.id).where(Payment.provider == BANK, Payment.external_id == bank_return.end_to_end_id)
    )
    if payment_id is None:
        report.unknown.append(bank_return)
        return
    # Under the payment's lock, so the same return read by two uploads at once is applied by one of them.
    payment = lock_payment(session, payment_id)
    known = session.scalar(
        select(DebitReturn.id).where(
            or_(
                DebitReturn.source_id == bank_return.source_id,
                DebitReturn.end_to_end_id == bank_return.end_to_end_id,
            )
        )
    )
    if known is not None:
        report.already.append(bank_return)
        return
    amount = bank_return.amount_cents or payment.amount_cents
    if payment.state in ("created", "open", "pending"):
        status = ProviderStatus(
            external_id=bank_return.end_to_end_id,
            state="failed",
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            method="directdebit",
            payment_id=payment.id,
            failure_reason=bank_return.reason_code,
        )
        apply_status(session, payment.id, status, actor=actor)
        report.failed.append(bank_return)
    elif payment.state == "paid":
        external_id = f"bank-return-{bank_return.end_to_end_id}"
        reversal = Reversal(external_id=external_id, kind="chargeback", amount_cents=amount)
        row = record_reversal(session, payment, reversal, actor=actor, reason=bank_return.reason_code)
        (report.reversed if row is not None else report.already).append(bank_return)
    else:
        report.already.append(bank_return)  # ended another way before the bank's word came (kept on record)
    debit_id = session.scalar(select(Debit.id).where(Debit.payment_id == payment.id))
    session.add(
        DebitReturn(
            source_id=bank_return.source_id,
            debit_id=debit_id,
            end_to_end_id=bank_return.end_to_end_id,
            reason_code=bank_return.reason_code,
            amount_cents=amount,
            file_name=(file_name or "")[:200] or None,
            created_at=clock.now(),
        )
    )
    session.flush()
