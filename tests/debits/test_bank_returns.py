"""The bank's returns read back: each return once, the reason reaching the debtor, a bad file changing nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from portal.audit.services import Actor
from portal.debits.errors import BankFileProblem
from portal.debits.models import DebitReturn
from portal.debits.returns import import_returns
from portal.debits.returns_files import read_returns_file
from portal.errors import message_for
from portal.i18n import force_locale
from portal.notifications.models import OutboxMessage
from portal.payments.models import PaymentReversal
from tests.debits.bank_cases import bank_customer, debit_of, run_on

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "returns"
STAFF = Actor(type="staff", id="returns@example.com")
JANUARY = date(2027, 1, 4)


@pytest.fixture(autouse=True)
def _app_context(app: Flask):
    with app.app_context():
        yield


def _example(name: str, ids: dict[str, str]) -> bytes:
    """An example file from examples/returns, with its end-to-end ids those of this test's debits."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    for example_id, real_id in ids.items():
        text = text.replace(example_id, real_id)
    return text.encode()


def _import(session, content: bytes, name: str = "returns.xml"):
    with time_machine.travel(datetime(2027, 1, 8, 9, tzinfo=UTC), tick=False):
        report = import_returns(session, content, file_name=name, actor=STAFF)
        session.commit()
    return report


def _failed_messages(session, schedule) -> int:
    return session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.customer_id == schedule.customer_id, OutboxMessage.template == "debit_failed"
        )
    )


@pytest.fixture()
def handed_over(session, create_customer, create_invoice, create_direct_debit):
    """Anna's and Bram's January debits are in the bank's file, pending there."""
    anna = bank_customer(create_customer, create_invoice, create_direct_debit, cents=8470, language="en")
    bram = bank_customer(create_customer, create_invoice, create_direct_debit, cents=12345, language="en")
    run_on(session, date(2026, 12, 15))
    run_on(session, JANUARY)
    return anna, bram


def test_a_rejection_before_the_date_fails_the_pending_debit_once(session, handed_over) -> None:
    anna, bram = handed_over
    bram_debit = debit_of(session, bram, "2027-01")
    content = _example("pain002.xml", {"D00000002-1": bram_debit.end_to_end_id})

    report = _import(session, content)
    assert report.kind == "pain.002" and [r.end_to_end_id for r in report.failed] == [bram_debit.end_to_end_id]
    assert report.ignored == 1, "the accepted transaction is no return"
    session.refresh(bram_debit)
    assert (bram_debit.state, bram_debit.failure_code) == ("failed", "AC04")
    assert bram_debit.payment.state == "failed" and bram_debit.payment.failure_reason == "AC04"
    assert bram_debit.invoice.state == "open" and bram_debit.invoice.outstanding_cents == 12345
    assert _failed_messages(session, bram) == 1, "Bram is told, with the choices for a closed account"
    assert debit_of(session, anna, "2027-01").state == "submitted", "Anna's debit is not in the report"

    again = _import(session, content)
    assert again.applied == 0 and len(again.already) == 1
    assert session.scalar(select(func.count(DebitReturn.id))) == 1
    assert _failed_messages(session, bram) == 1, "told once"

    run_on(session, date(2027, 1, 5))
    session.refresh(bram_debit)
    assert bram_debit.state == "failed", "a rejected debit is not counted as paid on its date"
    assert debit_of(session, anna, "2027-01").state == "collected"


def test_a_return_after_the_date_takes_the_money_back_with_the_bank_s_reason(session, handed_over) -> None:
    anna, _bram = handed_over
    run_on(session, date(2027, 1, 5))  # counted as paid on its date
    anna_debit = debit_of(session, anna, "2027-01")
    assert anna_debit.state == "collected" and anna_debit.invoice.state == "paid"
    content = _example("camt054.xml", {"D00000001-1": anna_debit.end_to_end_id})

    report = _import(session, content)
    assert report.kind == "camt.054" and [r.reason_code for r in report.reversed] == ["AM04"]
    assert report.ignored == 1, "the credit of the batch itself is no return"
    session.refresh(anna_debit)
    assert (anna_debit.state, anna_debit.failure_code) == ("failed", "AM04"), "the bank's reason, not a guess"
    reversal = session.scalars(select(PaymentReversal).where(PaymentReversal.payment_id == anna_debit.payment_id)).one()
    assert (reversal.kind, reversal.amount_cents) == ("chargeback", 8470)
    session.refresh(anna_debit.invoice)
    assert anna_debit.invoice.state == "open" and anna_debit.invoice.outstanding_cents == 8470
    message = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.customer_id == anna.customer_id, OutboxMessage.template == "debit_failed"
        )
    ).one()
    assert "not enough money" in message.body_text

    again = _import(session, content)
    assert again.applied == 0 and len(again.already) == 1
    assert session.scalar(select(func.count(PaymentReversal.id))) == 1
    assert _failed_messages(session, anna) == 1
    # The same return in the bank's CSV (no id of its own there) is still the same return.
    csv = f"end_to_end_id;reason_code;amount\n{anna_debit.end_to_end_id};AM04;84,70\n".encode()
    assert _import(session, csv, "returns.csv").applied == 0


def test_an_unknown_end_to_end_id_is_reported_and_the_rest_applied(session, handed_over) -> None:
    anna, bram = handed_over
    anna_debit = debit_of(session, anna, "2027-01")
    content = _example("returns.csv", {"D00000001-1": anna_debit.end_to_end_id, "D00000002-1": "D99999999-1"})
    report = _import(session, content, "returns.csv")
    assert report.kind == "csv"
    assert [r.end_to_end_id for r in report.failed] == [anna_debit.end_to_end_id]
    assert [r.end_to_end_id for r in report.unknown] == ["D99999999-1"]
    assert debit_of(session, bram, "2027-01").state == "submitted"
    assert session.scalars(select(DebitReturn.source_id)).all() == ["RTN-20270108-000123"]


MALFORMED = {
    "not XML": (b"<Document><BkToCstmrDbtCdtNtfctn>", "bad_xml"),
    "a DOCTYPE": (
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<Document><BkToCstmrDbtCdtNtfctn>&lol2;</BkToCstmrDbtCdtNtfctn></Document>",
        "unsafe_xml",
    ),
    "an external entity": (
        b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "file:///etc/passwd"><Document/>',
        "unsafe_xml",
    ),
    "another XML message": (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"/>', "unknown_format"),
    "a CSV without amounts": (b"end_to_end_id,reason_code\nD00000001-1,AM04\n", "missing_columns"),
    "a bad amount on line 3": (
        b"end_to_end_id,reason_code,amount\nPLACEHOLDER,AM04,84.70\nX-1,AM04,84.7.0\n",
        "bad_amount",
    ),
    "a bad reason code": (b"end_to_end_id,reason_code,amount\nPLACEHOLDER,insufficient,84.70\n", "bad_reason_code"),
    "an empty file": (b"\n", "empty_file"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_file_says_what_is_wrong_and_changes_nothing(session, handed_over, case) -> None:
    anna, _bram = handed_over
    anna_debit = debit_of(session, anna, "2027-01")
    content, code = MALFORMED[case]
    with pytest.raises(BankFileProblem) as problem:
        _import(session, content.replace(b"PLACEHOLDER", anna_debit.end_to_end_id.encode()))
    assert problem.value.code == code
    assert "%(" not in message_for(problem.value)
    session.rollback()
    session.refresh(anna_debit)
    assert anna_debit.state == "submitted" and anna_debit.payment.state == "pending"
    assert session.scalar(select(func.count(DebitReturn.id))) == 0


def test_the_bad_line_is_named() -> None:
    with pytest.raises(BankFileProblem) as problem:
        read_returns_file(b"end_to_end_id,reason_code,amount\nD1-1,AM04,84.70\nD2-1,AM04,zero\n")
    assert problem.value.details == {"line": 3, "value": "zero"}


@pytest.mark.parametrize(("name", "kind", "count"), [("camt054.xml", "camt.054", 1), ("pain002.xml", "pain.002", 1)])
def test_the_examples_read_as_documented(name, kind, count) -> None:
    parsed = read_returns_file((EXAMPLES / name).read_bytes())
    assert (parsed.kind, len(parsed.returns)) == (kind, count)


def test_the_csv_example_reads_with_its_amounts() -> None:
    parsed = read_returns_file((EXAMPLES / "returns.csv").read_bytes())
    assert [(r.end_to_end_id, r.reason_code, r.amount_cents, r.return_id) for r in parsed.returns] == [
        ("D00000001-1", "AM04", 8470, "RTN-20270108-000123"),
        ("D00000002-1", "MD06", 12345, None),
    ]


def test_a_whole_file_rejected_is_not_taken_for_a_list_of_returns() -> None:
    report = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>
<GrpHdr><MsgId>R1</MsgId><CreDtTm>2027-01-02T08:00:00</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>M1</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId><GrpSts>RJCT</GrpSts>
<StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf></OrgnlGrpInfAndSts>
</CstmrPmtStsRpt></Document>"""
    with pytest.raises(BankFileProblem) as problem:
        read_returns_file(report)
    assert problem.value.code == "whole_file_rejected"
    with force_locale("en"):
        assert "reason FF01" in message_for(problem.value)
