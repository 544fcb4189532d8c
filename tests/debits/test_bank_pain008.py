"""The pain.008 file of a collection date: what the creditor's bank receives, checked against the standard."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sepaxml
import xmlschema
from flask import Flask

from portal.debits.bank import build_pain008, collection_days, pain008_for, record_download
from portal.debits.errors import BankFileProblem
from portal.errors import message_for
from tests.debits.bank_cases import bank_customer, debit_of, run_on

XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd"
JANUARY = date(2027, 1, 4)


@pytest.fixture(autouse=True)
def _app_context(app: Flask):
    with app.app_context():
        yield


def _read(content: bytes) -> dict[str, Any]:
    schema = xmlschema.XMLSchema(str(XSD))
    schema.validate(content.decode())  # raises when the file breaks the standard's schema
    return schema.to_dict(content.decode())["CstmrDrctDbtInitn"]  # type: ignore[index,no-any-return]


def _transactions(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every transaction by end-to-end id, with the sequence type and date of its batch."""
    found = {}
    for batch in document["PmtInf"]:
        for transaction in batch["DrctDbtTxInf"]:
            found[transaction["PmtId"]["EndToEndId"]] = {
                "sequence": batch["PmtTpInf"]["SeqTp"],
                "date": batch["ReqdColltnDt"],
                "amount": transaction["InstdAmt"]["$"],
                "currency": transaction["InstdAmt"]["@Ccy"],
                "umr": transaction["DrctDbtTx"]["MndtRltdInf"]["MndtId"],
                "signed": transaction["DrctDbtTx"]["MndtRltdInf"]["DtOfSgntr"],
                "iban": transaction["DbtrAcct"]["Id"]["IBAN"],
                "name": transaction["Dbtr"]["Nm"],
            }
    return found


@pytest.fixture()
def two_debtors(session, create_customer, create_invoice, create_direct_debit):
    """Anna is new on direct debit in January; Bram was collected in December already."""
    anna = bank_customer(
        create_customer, create_invoice, create_direct_debit, cents=8470, name="Anna Jansen", iban="NL91ABNA0417164300"
    )
    bram = bank_customer(
        create_customer,
        create_invoice,
        create_direct_debit,
        cents=12345,
        name="Bram de Wit",
        iban="NL44RABO0123456789",
        periods=("2026-12", "2027-01"),
    )
    run_on(session, date(2026, 11, 16))  # Bram's December debit announced
    run_on(session, date(2026, 12, 4))  # handed over
    run_on(session, date(2026, 12, 7))  # counted as paid on its date
    run_on(session, date(2026, 12, 15))  # both January debits announced
    run_on(session, JANUARY)  # handed over to the bank
    return anna, bram


def test_the_file_holds_every_debit_of_the_date_with_exact_amounts(session, two_debtors) -> None:
    anna, bram = two_debtors
    anna_debit, bram_debit = debit_of(session, anna, "2027-01"), debit_of(session, bram, "2027-01")
    assert anna_debit.state == bram_debit.state == "submitted"
    assert debit_of(session, bram, "2026-12").state == "collected"

    document = _read(pain008_for(session, JANUARY))
    header = document["GrpHdr"]
    assert header["NbOfTxs"] == "2"
    assert Decimal(str(header["CtrlSum"])) == Decimal("208.15")
    assert header["InitgPty"]["Id"]["OrgId"]["Othr"][0]["Id"] == "NL57ZZZ999999999999"
    batches = document["PmtInf"]
    assert {batch["CdtrAcct"]["Id"]["IBAN"] for batch in batches} == {"NL91ABNA0417164300"}
    assert {batch["PmtTpInf"]["LclInstrm"]["Cd"] for batch in batches} == {"CORE"}
    assert sum(Decimal(str(batch["CtrlSum"])) for batch in batches) == Decimal("208.15")

    transactions = _transactions(document)
    assert set(transactions) == {anna_debit.end_to_end_id, bram_debit.end_to_end_id}
    anna_tx, bram_tx = transactions[anna_debit.end_to_end_id], transactions[bram_debit.end_to_end_id]
    assert anna_tx["sequence"] == "FRST", "Anna's first collection on her mandate"
    assert bram_tx["sequence"] == "RCUR", "Bram was collected on the same mandate in December"
    assert (Decimal(str(anna_tx["amount"])), anna_tx["currency"]) == (Decimal("84.70"), "EUR")
    assert Decimal(str(bram_tx["amount"])) == Decimal("123.45")
    assert anna_tx["umr"] == anna.mandate.reference and bram_tx["umr"] == bram.mandate.reference
    assert anna_tx["signed"] == "2026-06-01"
    assert (anna_tx["iban"], bram_tx["iban"]) == ("NL91ABNA0417164300", "NL44RABO0123456789")
    assert anna_tx["name"] == "Anna Jansen" and anna_tx["date"] == "2027-01-04"


def test_december_was_bram_s_first_collection(session, two_debtors) -> None:
    _anna, bram = two_debtors
    transactions = _transactions(_read(pain008_for(session, date(2026, 12, 4))))
    assert [tx["sequence"] for tx in transactions.values()] == ["FRST"]
    assert list(transactions) == [debit_of(session, bram, "2026-12").end_to_end_id]


def test_a_date_without_bank_debits_gives_a_message_and_no_file(session, two_debtors) -> None:
    with pytest.raises(BankFileProblem) as problem:
        pain008_for(session, date(2027, 1, 5))
    assert problem.value.code == "no_debits"
    assert "2027-01-05" in message_for(problem.value)


def test_the_staff_list_counts_each_date_and_says_what_was_downloaded(session, two_debtors) -> None:
    days = {day.date: day for day in collection_days(session, today=JANUARY)}
    january = days[JANUARY]
    assert (january.count, january.total_cents, january.downloaded_at) == (2, 20815, None)
    assert date(2027, 2, 4) not in days, "not announced yet"
    run_on(session, date(2027, 1, 18))
    days = {day.date: day for day in collection_days(session, today=date(2027, 1, 18))}
    february = days[date(2027, 2, 4)]
    assert (february.count, february.planned_count, february.planned_cents) == (0, 2, 20815), "announced only"

    record_download(session, build_pain008(session, JANUARY), downloaded_by="staff@example.com")
    session.commit()
    january = {day.date: day for day in collection_days(session, today=JANUARY)}[JANUARY]
    assert january.downloaded_by == "staff@example.com" and january.added_since == 0


def test_debits_added_to_a_date_after_its_download_are_pointed_out(session, two_debtors) -> None:
    anna, _bram = two_debtors
    file = build_pain008(session, JANUARY)
    downloaded = record_download(session, file, downloaded_by="staff@example.com")
    # As if the file had been downloaded before Anna's debit was handed over.
    downloaded.end_to_end_ids = [
        i for i in file.end_to_end_ids if i != debit_of(session, anna, "2027-01").end_to_end_id
    ]
    session.commit()
    january = {day.date: day for day in collection_days(session, today=JANUARY)}[JANUARY]
    assert january.added_since == 1
