"""The creditor's own bank: one pain.008 file per collection date, and the dates staff hand files over for.

A bank debit is handed over when the collection run gives it a Payment at the bank (state "submitted", the
Payment "pending" with the end-to-end id as its external id). The file of a date holds every debit handed
over for that date, also those collected or returned since, so downloading it again gives the same
transactions. Each download is recorded (``BankFile``): the page says whether a date's file went out, and
warns when debits were added to that date after it did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sepaxml import SepaDD  # type: ignore[import-untyped]  # ships no types
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import clock
from portal.debits.errors import BankFileProblem
from portal.debits.models import BankFile, Debit, DebitSchedule, Mandate
from portal.payments.models import Payment
from portal.settings.services import creditor_details

BANK = "bank"
SCHEMA = "pain.008.001.02"
# The debit states of a debit that went into its date's file (collected or returned since, or still pending).
HANDED_OVER = ("submitted", "collected", "failed")
# How far back the staff page lists collection dates; returns can arrive up to 13 months later, but the files
# that matter to staff are the recent and the coming ones.
LISTED_DAYS_BACK = 92
_CREDITOR_FIELDS = {"name": "name", "iban": "IBAN", "bic": "BIC", "identifier": "SEPA creditor identifier"}


@dataclass(frozen=True)
class Pain008:
    collection_date: date
    content: bytes
    message_id: str
    end_to_end_ids: list[str]
    total_cents: int

    @property
    def filename(self) -> str:
        return f"pain008-{self.collection_date.isoformat()}.xml"


@dataclass(frozen=True)
class CollectionDay:
    """One date on the staff page: what is handed over for it (the file), what is announced but not yet."""

    date: date
    count: int  # debits in the file
    total_cents: int
    planned_count: int  # announced, not yet handed over (that happens a few bank days before the date)
    planned_cents: int
    downloaded_at: datetime | None
    downloaded_by: str | None
    added_since: int  # debits in the file now that the last downloaded file did not hold


def _handed_over_rows(session: Session, collection_date: date) -> Sequence[tuple[Debit, Payment, Mandate]]:
    rows = session.execute(
        select(Debit, Payment, Mandate)
        .join(Payment, Payment.id == Debit.payment_id)
        .join(DebitSchedule, DebitSchedule.id == Debit.schedule_id)
        .join(Mandate, Mandate.id == DebitSchedule.mandate_id)
        .where(
            Debit.due_on == collection_date,
            Debit.state.in_(HANDED_OVER),
            Payment.provider == BANK,
            # Set when the bank collector accepted it; a payment without one was never handed over.
            Payment.external_id.is_not(None),
        )
        .order_by(Debit.id)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def _sequence_type(session: Session, mandate: Mandate, collection_date: date) -> str:
    """FRST for a mandate's first collection, RCUR once an earlier one went through (or is on its way)."""
    if mandate.last_collected_on is not None and mandate.last_collected_on < collection_date:
        return "RCUR"
    earlier = session.scalar(
        select(func.count(Debit.id))
        .join(DebitSchedule, DebitSchedule.id == Debit.schedule_id)
        .where(
            DebitSchedule.mandate_id == mandate.id,
            Debit.due_on < collection_date,
            Debit.state.in_(("submitted", "collected")),
        )
    )
    return "RCUR" if earlier else "FRST"


def _creditor_config(session: Session) -> dict[str, object]:
    creditor = creditor_details(session)
    missing = [label for key, label in _CREDITOR_FIELDS.items() if creditor.get(key, "") in ("", "None")]
    if missing:
        raise BankFileProblem("creditor_incomplete", missing=", ".join(missing))
    return {
        "name": creditor["name"],
        "IBAN": creditor["iban"],
        "BIC": creditor["bic"],
        "creditor_id": creditor["identifier"],
        "batch": True,
        "currency": "EUR",
    }


def build_pain008(session: Session, collection_date: date) -> Pain008:
    """The pain.008.001.02 file (SEPA Core) of every bank debit handed over for ``collection_date``.

    Raises BankFileProblem "no_debits" when there is none (no empty file), "creditor_incomplete" when the
    settings lack what the file needs. The file is checked against the standard's XML schema as it is made.
    """
    rows = _handed_over_rows(session, collection_date)
    if not rows:
        raise BankFileProblem("no_debits", date=collection_date.isoformat())
    sepa = SepaDD(_creditor_config(session), schema=SCHEMA, clean=True)
    ids: list[str] = []
    for debit, payment, mandate in rows:
        # The payment's external id is the end-to-end id of the attempt it collects; returns name that id.
        end_to_end_id = payment.external_id or debit.end_to_end_id
        transaction: dict[str, object] = {
            "name": mandate.debtor_name,
            "IBAN": mandate.iban,
            "amount": payment.amount_cents,
            "currency": payment.currency,
            "type": _sequence_type(session, mandate, collection_date),
            "collection_date": collection_date,
            "mandate_id": mandate.reference,
            "mandate_date": mandate.signed_on,
            "description": f"{debit.invoice.number if debit.invoice else debit.period} {payment.reference}",
            "endtoend_id": end_to_end_id,
        }
        if mandate.bic:
            transaction["BIC"] = mandate.bic
        sepa.add_payment(transaction)
        ids.append(end_to_end_id)
    content = sepa.export(validate=True)
    total = sum(payment.amount_cents for _debit, payment, _mandate in rows)
    return Pain008(collection_date, content, str(sepa.msg_id), ids, total)


def pain008_for(session: Session, collection_date: date) -> bytes:
    """The pain.008 file of ``collection_date`` as bytes (see ``build_pain008``)."""
    return build_pain008(session, collection_date).content


def record_download(session: Session, file: Pain008, *, downloaded_by: str) -> BankFile:
    """Note that ``file`` went to staff (to be uploaded to the bank). The caller commits."""
    row = BankFile(
        collection_date=file.collection_date,
        message_id=file.message_id[:35],
        debit_count=len(file.end_to_end_ids),
        total_cents=file.total_cents,
        end_to_end_ids=list(file.end_to_end_ids),
        downloaded_by=downloaded_by,
        downloaded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def collection_days(session: Session, *, today: date) -> list[CollectionDay]:
    """Every bank collection date from a while back on, newest first: counts, totals and the last download."""
    since = today - timedelta(days=LISTED_DAYS_BACK)
    bank_debits = (
        select(Debit.due_on, Debit.state, Debit.amount_cents, Payment.amount_cents, Payment.external_id)
        .join(DebitSchedule, DebitSchedule.id == Debit.schedule_id)
        .join(Mandate, Mandate.id == DebitSchedule.mandate_id)
        .outerjoin(Payment, Payment.id == Debit.payment_id)
        .where(Mandate.collector == BANK, Debit.due_on >= since, Debit.state.in_(("notified", *HANDED_OVER)))
    )
    days: dict[date, dict[str, int]] = {}
    in_file: dict[date, set[str]] = {}
    for due_on, state, debit_cents, payment_cents, external_id in session.execute(bank_debits):
        day = days.setdefault(due_on, {"count": 0, "total": 0, "planned": 0, "planned_cents": 0})
        if state in HANDED_OVER and external_id is not None:
            day["count"] += 1
            day["total"] += payment_cents
            in_file.setdefault(due_on, set()).add(external_id)
        elif state == "notified":
            day["planned"] += 1
            day["planned_cents"] += debit_cents
    last_files = _last_downloads(session, list(days))
    result = []
    for day_date in sorted(days, reverse=True):
        numbers = days[day_date]
        last = last_files.get(day_date)
        added = len(in_file.get(day_date, set()) - set(last.end_to_end_ids)) if last is not None else 0
        result.append(
            CollectionDay(
                date=day_date,
                count=numbers["count"],
                total_cents=numbers["total"],
                planned_count=numbers["planned"],
                planned_cents=numbers["planned_cents"],
                downloaded_at=last.downloaded_at if last is not None else None,
                downloaded_by=last.downloaded_by if last is not None else None,
                added_since=added,
            )
        )
    return result


def _last_downloads(session: Session, dates: list[date]) -> dict[date, BankFile]:
    if not dates:
        return {}
    files = session.scalars(
        select(BankFile).where(BankFile.collection_date.in_(dates)).order_by(BankFile.downloaded_at, BankFile.id)
    )
    return {file.collection_date: file for file in files}  # the latest per date wins
