"""The staff page and the commands for the bank: download a date's pain.008 file, read the bank's returns back."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from portal.debits.models import BankFile, DebitReturn
from tests.debits.bank_cases import bank_customer, debit_of, run_on
from tests.fixtures.factories import csrf_token

JANUARY = date(2027, 1, 4)
PAGE = "/staff/debits/bank/"


@pytest.fixture()
def handed_over(app, session, create_customer, create_invoice, create_direct_debit):
    schedule = bank_customer(create_customer, create_invoice, create_direct_debit, cents=8470, language="en")
    with app.app_context():  # the pre-notification carries a personal link, built from the app's configuration
        run_on(session, date(2026, 12, 15))
        run_on(session, JANUARY)
    return schedule


@pytest.fixture()
def on_january_4th():
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=UTC), tick=False):
        yield


def test_a_supervisor_downloads_the_file_of_a_date(client, staff_login, session, handed_over, on_january_4th) -> None:
    staff = staff_login(client, "supervisor", language="en")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Bank files" in page and "Not downloaded yet" in page
    assert "/staff/debits/bank/pain008?date=2027-01-04" in page

    response = client.get("/staff/debits/bank/pain008?date=2027-01-04")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="pain008-2027-01-04.xml"'
    assert debit_of(session, handed_over, "2027-01").end_to_end_id.encode() in response.data
    assert b'<InstdAmt Ccy="EUR">84.70</InstdAmt>' in response.data

    page = client.get(PAGE).get_data(as_text=True)
    assert "Not downloaded yet" not in page and staff.email in page
    assert session.scalar(select(func.count(BankFile.id))) == 1


def test_a_date_without_debits_says_so(client, staff_login, session, handed_over, on_january_4th) -> None:
    staff_login(client, "supervisor", language="en")
    response = client.get("/staff/debits/bank/pain008?date=2027-01-05", follow_redirects=True)
    assert "No debits are collected through the bank on 2027-01-05" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(BankFile.id))) == 0


def test_an_agent_may_not_open_the_bank_files(client, staff_login, handed_over) -> None:
    staff_login(client, "agent")
    assert client.get(PAGE).status_code == 403
    assert client.get("/staff/debits/bank/pain008?date=2027-01-04").status_code == 403


def _upload(client, content: bytes, name: str):
    token = csrf_token(client, PAGE)
    return client.post(
        "/staff/debits/bank/returns",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_a_returns_file_uploaded_twice_applies_once(client, staff_login, session, handed_over, on_january_4th) -> None:
    staff_login(client, "supervisor", language="en")
    debit = debit_of(session, handed_over, "2027-01")
    csv = f"end_to_end_id,reason_code,amount\n{debit.end_to_end_id},AM04,84.70\nD77777777-1,AC04,10.00\n".encode()
    page = _upload(client, csv, "returns.csv").get_data(as_text=True)
    assert "1 return was applied" in page
    assert "D77777777-1" in page and "We have no debit through the bank" in page
    debit = debit_of(session, handed_over, "2027-01")
    assert (debit.state, debit.failure_code) == ("failed", "AM04")

    page = _upload(client, csv, "returns.csv").get_data(as_text=True)
    assert "Nothing changed" in page and "These returns were already applied" in page
    assert session.scalar(select(func.count(DebitReturn.id))) == 1
    assert "there was not enough money in the account" in client.get(PAGE).get_data(as_text=True)


def test_a_malformed_returns_file_is_refused_with_a_reason(client, staff_login, session, handed_over) -> None:
    staff_login(client, "supervisor", language="en")
    response = _upload(client, b"<Document><oops>", "returns.xml")
    assert response.status_code == 400
    assert "The file is not valid XML" in response.get_data(as_text=True)
    assert debit_of(session, handed_over, "2027-01").state == "submitted"


def test_the_commands_write_the_file_and_read_the_returns(app: Flask, session, handed_over, tmp_path) -> None:
    runner = app.test_cli_runner()
    target = tmp_path / "january.xml"
    result = runner.invoke(args=["debits", "pain008", "2027-01-04", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert b"<NbOfTxs>1</NbOfTxs>" in target.read_bytes()
    assert "1 debits, EUR 84.70" in result.output

    result = runner.invoke(args=["debits", "pain008", "2027-01-05"])
    assert result.exit_code == 2 and "No debits are collected through the bank on 2027-01-05" in result.output

    debit = debit_of(session, handed_over, "2027-01")
    returns_file = tmp_path / "returns.csv"
    returns_file.write_text(f"end_to_end_id;reason_code;amount\n{debit.end_to_end_id};MD06;84,70\n")
    result = runner.invoke(args=["debits", "returns", str(returns_file)])
    assert result.exit_code == 0, result.output
    assert "failed before collection: 1" in result.output
    again = runner.invoke(args=["debits", "returns", str(returns_file)])
    assert "applied before: 1" in again.output
    assert debit_of(session, handed_over, "2027-01").failure_code == "MD06"

    broken = tmp_path / "broken.csv"
    broken.write_text("end_to_end_id,reason_code\nD1-1,AM04\n")
    result = runner.invoke(args=["debits", "returns", str(broken)])
    assert result.exit_code == 2 and "lacks the column(s) amount" in result.output
