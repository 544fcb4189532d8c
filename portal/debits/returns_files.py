"""Reading the bank's returns: camt.054 (debit notifications), pain.002 (payment status reports) or a CSV.

Each file becomes a list of ``BankReturn``: which debit (its end-to-end id), why (the SEPA reason code) and
how much. A file that cannot be read raises BankFileProblem and yields nothing, so a bad file changes nothing.

XML is parsed with expat directly and refused outright when it declares a DOCTYPE or an ENTITY: a returns
file never needs one, and refusing them rules out entity expansion and external entities (what defusedxml
would guard against; it is not a dependency of ours).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from portal.debits.errors import BankFileProblem
from portal.money import AmountProblem, parse_amount

FileKind = Literal["camt.054", "pain.002", "csv"]
REASON_CODE = re.compile(r"[A-Z0-9]{4}")
MAX_END_TO_END = 35
CSV_COLUMNS = ("end_to_end_id", "reason_code", "amount")
_LINE = "line"  # where an element started, kept on it while reading (namespaces are dropped, so no clash)


@dataclass(frozen=True)
class BankReturn:
    end_to_end_id: str
    reason_code: str
    amount_cents: int | None  # None where the file does not say (pain.002 may leave it out)
    return_id: str | None  # the bank's own id of the return, where the file has one
    line: int

    @property
    def source_id(self) -> str:
        """What makes the return unique: the bank's id, else the end-to-end id with the reason."""
        return self.return_id or f"{self.end_to_end_id}:{self.reason_code}"


@dataclass(frozen=True)
class ReturnsFile:
    kind: FileKind
    returns: list[BankReturn]
    # Entries the file holds that are no return (a batch booked, a transaction accepted): left alone.
    ignored: int = 0


class _Refused(Exception):
    pass


def _parse_xml(content: bytes) -> Element:
    """The document, with namespaces dropped from the names; DOCTYPE and ENTITY declarations refused."""
    builder = TreeBuilder()
    parser = expat.ParserCreate(namespace_separator=" ")

    def start(name: str, attributes: dict[str, str]) -> None:
        element = builder.start(name.rpartition(" ")[2], {})
        element.set(_LINE, str(parser.CurrentLineNumber))

    def refuse(*_args: Any) -> None:
        raise _Refused

    def refuse_external(*_args: Any) -> int:
        raise _Refused

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: builder.end(name.rpartition(" ")[2])
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse_external
    try:
        parser.Parse(content, True)
    except _Refused:
        raise BankFileProblem("unsafe_xml") from None
    except expat.ExpatError as error:
        raise BankFileProblem("bad_xml", error=expat.ErrorString(error.code)) from None
    return builder.close()


def _text(element: Element | None, path: str) -> str | None:
    found = element.find(path) if element is not None else None
    text = (found.text or "").strip() if found is not None else ""
    return text or None


def _line(element: Element) -> int:
    return int(element.get(_LINE, "0"))


def _xml_cents(text: str | None, line: int) -> int | None:
    """An ISO 20022 amount ("84.70") in cents, exactly."""
    if text is None:
        return None
    try:
        cents = Decimal(text) * 100
    except InvalidOperation:
        raise BankFileProblem("bad_amount", line=line, value=text) from None
    if cents <= 0 or cents != cents.to_integral_value():
        raise BankFileProblem("bad_amount", line=line, value=text)
    return int(cents)


def _checked(
    end_to_end_id: str | None, code: str | None, amount: int | None, return_id: str | None, line: int
) -> BankReturn:
    if not end_to_end_id or len(end_to_end_id) > MAX_END_TO_END:
        raise BankFileProblem("bad_end_to_end_id", line=line)
    code = (code or "").strip().upper()
    if not REASON_CODE.fullmatch(code):
        raise BankFileProblem("bad_reason_code", line=line, value=code or "-")
    return BankReturn(end_to_end_id, code, amount, (return_id or "").strip()[:120] or None, line)


def _camt054(document: Element) -> ReturnsFile:
    """Reversal entries: a transaction with return information (RtrInf/Rsn/Cd) names the original debit."""
    returns: list[BankReturn] = []
    ignored = 0
    for entry in document.iter("Ntry"):
        details = list(entry.iter("TxDtls"))
        for transaction in details:
            code = _text(transaction, "RtrInf/Rsn/Cd")
            if code is None:
                ignored += 1
                continue
            line = _line(transaction)
            amount = _text(transaction, "AmtDtls/TxAmt/Amt") or _text(transaction, "Amt")
            if amount is None and len(details) == 1:
                amount = _text(entry, "Amt")
            return_id = _text(transaction, "Refs/AcctSvcrRef")
            if return_id is None and len(details) == 1:
                return_id = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
            end_to_end_id = _text(transaction, "Refs/EndToEndId")
            returns.append(_checked(end_to_end_id, code, _xml_cents(amount, line), return_id, line))
        if not details:
            ignored += 1
    return ReturnsFile("camt.054", returns, ignored)


def _pain002(document: Element) -> ReturnsFile:
    """Rejected transactions (TxSts RJCT, or in a rejected batch) with their reason and original end-to-end id."""
    returns: list[BankReturn] = []
    ignored = 0
    for batch in document.iter("OrgnlPmtInfAndSts"):
        batch_rejected = _text(batch, "PmtInfSts") == "RJCT"
        for transaction in batch.iter("TxInfAndSts"):
            status = _text(transaction, "TxSts")
            if status != "RJCT" and not (status is None and batch_rejected):
                ignored += 1
                continue
            line = _line(transaction)
            code = _text(transaction, "StsRsnInf/Rsn/Cd") or _text(batch, "StsRsnInf/Rsn/Cd")
            amount = _xml_cents(_text(transaction, "OrgnlTxRef/Amt/InstdAmt"), line)
            end_to_end_id = _text(transaction, "OrgnlEndToEndId")
            returns.append(_checked(end_to_end_id, code, amount, _text(transaction, "StsId"), line))
        if batch_rejected and batch.find("TxInfAndSts") is None:
            _whole_file_rejected(batch)
    group = document.find(".//OrgnlGrpInfAndSts")
    if group is not None and _text(group, "GrpSts") == "RJCT" and not returns:
        _whole_file_rejected(group)
    return ReturnsFile("pain.002", returns, ignored)


def _whole_file_rejected(status: Element) -> None:
    """The bank refused a whole file or batch without naming its debits: nothing of it was collected, and only
    staff can put that right (correct it and send it again), so it is not taken for a list of returns."""
    raise BankFileProblem("whole_file_rejected", reason=_text(status, "StsRsnInf/Rsn/Cd") or "-")


def _csv(text: str) -> ReturnsFile:
    """Columns end_to_end_id, reason_code, amount and optionally return_id, in any order; comma or semicolon."""
    first_line = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in CSV_COLUMNS if name not in columns]
    if missing:
        if not {"end_to_end_id", "reason_code"} & set(columns):
            raise BankFileProblem("unknown_format")
        raise BankFileProblem("missing_columns", columns=", ".join(missing))
    reader.fieldnames = columns
    returns: list[BankReturn] = []
    for row in reader:
        line = reader.line_num
        values = {key: (value or "").strip() for key, value in row.items() if isinstance(key, str)}
        if not any(values.values()):
            continue  # an empty line, as spreadsheets leave at the end
        try:
            amount = parse_amount(values["amount"], "EUR")
        except AmountProblem:
            raise BankFileProblem("bad_amount", line=line, value=values["amount"] or "-") from None
        returns.append(_checked(values["end_to_end_id"], values["reason_code"], amount, values.get("return_id"), line))
    return ReturnsFile("csv", returns)


def read_returns_file(content: bytes) -> ReturnsFile:
    """The returns in ``content``: camt.054 or pain.002 XML, or a CSV of returns. Raises BankFileProblem."""
    stripped = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise BankFileProblem("empty_file")
    if stripped.startswith(b"<"):
        document = _parse_xml(content)
        names = {child.tag for child in document}
        if document.tag == "BkToCstmrDbtCdtNtfctn" or "BkToCstmrDbtCdtNtfctn" in names:
            return _camt054(document)
        if document.tag == "CstmrPmtStsRpt" or "CstmrPmtStsRpt" in names:
            return _pain002(document)
        raise BankFileProblem("unknown_format")
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError:
        text = stripped.decode("cp1252", errors="replace")  # Excel on Windows saves CSV files that way
    return _csv(text)
