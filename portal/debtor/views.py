"""What the debtor sees: the overview of what they owe, and each invoice's specification and PDF."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from flask import Blueprint, abort, g, render_template, request
from werkzeug.wrappers import Response

from portal import clock
from portal.accounts.held import held_cents
from portal.accounts.presence import features_present
from portal.accounts.view import CREDIT_PRESENCE, balance_from_open_invoices
from portal.audit.services import record
from portal.debits.overview import PRESENCE as DIRECT_DEBIT
from portal.debits.overview import collection_dates, direct_debit_view, schedule_with_debits
from portal.debtor.access import debtor_actor, debtor_required, note_visit, reads_only
from portal.debtor.arranged import ToPayNow, arrangements_for, arrangements_from, to_pay_now
from portal.disputes.overview import PRESENCE as DISPUTES
from portal.disputes.overview import DisputesView, disputes_view
from portal.disputes.queries import credit_notes_for_invoice
from portal.extensions import db
from portal.invoices import queries
from portal.invoices.models import Invoice
from portal.invoices.pdf import render_invoice_pdf
from portal.invoices.services import compare_with_usual, invoice_status
from portal.invoices.transfer import TransferInstructions, transfer_reference
from portal.payments.history import PRESENCE as REVERSALS
from portal.payments.history import invoice_history, latest_reason_reopened
from portal.plans.overview import PRESENCE as PLANS
from portal.plans.overview import PlansView, plans_view
from portal.plans.template_helpers import note_more_time
from portal.settings.services import creditor_details

bp = Blueprint("debtor", __name__)
LEGACY_PDF_SUFFIX = "/pdf"
SVG = "image/svg+xml"
QR_MAX_AGE = 3600


def _customer_today() -> date:
    return clock.today_for(g.customer)


def _transfer_for(
    amount_cents: int, currency: str, numbers: list[str], creditor: dict[str, str] | None = None
) -> TransferInstructions:
    creditor = creditor or creditor_details(db.session)
    return TransferInstructions(
        beneficiary=creditor["name"],
        iban=creditor["iban"],
        bic=creditor["bic"],
        amount_cents=amount_cents,
        currency=currency,
        reference=transfer_reference(numbers, g.customer.external_ref),
    )


def _overview_invoices() -> tuple[list[Invoice], list[Invoice]]:
    """The debtor's open invoices, and all of them with those paid in the last year."""
    invoices = queries.list_open_and_recently_paid(db.session, g.customer.id, clock.now() - timedelta(days=365))
    return [invoice for invoice in invoices if invoice.state == "open"], invoices


def _overview_transfers(to_pay: Mapping[str, ToPayNow], creditor: dict[str, str]) -> list[TransferInstructions]:
    """One transfer per currency of what the debtor pays next: what is to be paid now (the open total less what a
    dispute holds and what a debit, a plan or a promise takes care of), or, when that is nothing, what they
    promised to pay (by its date, but still theirs to pay, so they need the account). The overview shows them,
    its QR codes draw them."""
    transfers = []
    for currency, summary in sorted(to_pay.items()):
        if summary.now > 0:
            transfers.append(_transfer_for(summary.now, currency, summary.numbers_now, creditor))
        elif summary.promised > 0:
            transfers.append(_transfer_for(summary.promised, currency, summary.numbers_promised, creditor))
    return transfers


def _disputed(held: Mapping[str, int]) -> set[str]:
    return {number for number, cents in held.items() if cents > 0}


@bp.get("/overview")
@reads_only
@debtor_required
def overview() -> str:
    customer = g.customer
    today = _customer_today()
    open_invoices, invoices = _overview_invoices()
    paid = sorted(
        (invoice for invoice in invoices if invoice.state == "paid" and invoice.paid_at is not None),
        key=lambda invoice: invoice.paid_at or clock.now(),
        reverse=True,
    )
    # Credit, disputes, refunds and chargebacks, direct debit, plans and promises: most debtors have none of
    # them, and one statement tells which this one has; each feature reads more only if it has something to
    # show. All before the commit: a query after it would begin a second transaction, on SQLite one with the
    # write lock.
    present = features_present(db.session, customer.id, now=clock.now())
    balance = balance_from_open_invoices(db.session, customer, open_invoices, has_credit=present.get(CREDIT_PRESENCE))
    totals = balance.open
    creditor = creditor_details(db.session)  # the layout uses it too, without a 2nd query
    # What a dispute holds is owed, but not asked for.
    disputes = disputes_view(db.session, customer.id, now=clock.now(), has_any=present.get(DISPUTES))
    # A refund or chargeback that reopened an invoice is said on its status line (payments/history.py).
    history = invoice_history(
        db.session, customer.id, [invoice.number for invoice in open_invoices], has_any=present.get(REVERSALS)
    )
    reopened_by = {number: note for number, notes in history.items() if (note := latest_reason_reopened(notes))}
    # Direct debit's policy comes with the settings already read.
    direct_debit = direct_debit_view(
        db.session, customer.id, open_invoices, today=today, has_any=present.get(DIRECT_DEBIT)
    )
    collects = direct_debit.collects if direct_debit else {}
    plans = plans_view(db.session, customer.id, today=today, has_any=present.get(PLANS))
    covered = plans.covered
    # Owed, but taken care of: a debit collects it, or a plan or promise says when. Asked for is only the rest.
    to_pay = to_pay_now(open_invoices, disputes.held, arrangements_from(collects, plans, _disputed(disputes.held)))
    note_more_time(customer.id, plans)
    transfers = _overview_transfers(to_pay, creditor)
    note_visit("overview", access="overview.viewed")
    db.session.commit()
    with_status = [(invoice, invoice_status(invoice, today)) for invoice in open_invoices]
    return render_template(
        "debtor/overview.html",
        open_invoices=with_status,
        reopened_by=reopened_by,
        # A refunded invoice is not late: we paid it back (its status says "Open again"); nor is one a debit
        # will collect (its status says when), nor one in a plan or promise (we agreed on when).
        overdue_count=sum(
            1
            for invoice, status in with_status
            if status.state == "overdue"
            and getattr(reopened_by.get(invoice.number), "kind", None) != "refunded"
            and invoice.number not in collects
            and invoice.number not in covered
            and invoice.number not in disputes.on_invoice
        ),
        direct_debit=direct_debit,
        plans=plans,
        disputes=disputes,
        collects=collects,
        totals=totals,
        to_pay=to_pay,
        credit=balance.credit,
        transfers=transfers,
        paid_invoices=paid,
        creditor=creditor,
        today=today,
    )


@bp.get("/invoices/<path:number>")
@debtor_required
def invoice(number: str) -> str | Response:
    found = queries.get_invoice_for_customer(db.session, g.customer.id, number)
    if found is None and number.endswith(LEGACY_PDF_SUFFIX):
        # A PDF link of the old form (/invoices/<number>/pdf), from a bookmark or an earlier page. Only when no
        # invoice carries the whole number: an invoice numbered "X/pdf" opens as itself, never as X's PDF.
        pdf_of = queries.get_invoice_for_customer(db.session, g.customer.id, number.removesuffix(LEGACY_PDF_SUFFIX))
        if pdf_of is not None:
            return _pdf_response(pdf_of)
    if found is None:
        abort(404)
    today = _customer_today()
    status = invoice_status(found, today)
    creditor = creditor_details(db.session)  # read before the commit: the layout uses it too, without a 2nd query
    # As on the overview: one statement tells which features this debtor has something of.
    present = features_present(db.session, g.customer.id, now=clock.now())
    is_open = found.state == "open"
    # What of this invoice is on hold, and why.
    disputes = (
        disputes_view(db.session, g.customer.id, now=clock.now(), has_any=present.get(DISPUTES))
        if is_open
        else DisputesView()
    )
    transfer = _invoice_transfer(found, creditor, held=disputes.held.get(found.number, 0))
    comparison = compare_with_usual(db.session, found)
    history = invoice_history(db.session, g.customer.id, [found.number], has_any=present.get(REVERSALS))
    reopened = latest_reason_reopened(history.get(found.number)) if is_open else None
    collects_on = None
    if is_open:
        schedule = schedule_with_debits(db.session, g.customer.id, has_any=present.get(DIRECT_DEBIT))
        collects_on = collection_dates(schedule, [found]).get(found.number)
    plans = PlansView()
    if is_open:
        plans = plans_view(db.session, g.customer.id, today=today, has_any=present.get(PLANS))
        note_more_time(g.customer.id, plans)
    record(db.session, debtor_actor(), "invoice.viewed", customer_id=g.customer.id, subject=("invoice", found.number))
    note_visit("invoice", found.number)
    db.session.commit()
    return render_template(
        "debtor/invoice.html",
        invoice=found,
        status=status,
        transfer=transfer,
        comparison=comparison,
        creditor=creditor,
        history=history.get(found.number, []),
        reopened=reopened,
        collects_on=collects_on,
        in_plan=plans.in_plan.get(found.number),
        promised=plans.promised.get(found.number),
        disputed_by=disputes.on_invoice.get(found.number),
        # Only an invoice a credit note lowered asks for them.
        credit_notes=credit_notes_for_invoice(db.session, found.id) if found.credited_cents else [],
        held_cents=disputes.held.get(found.number, 0),
    )


def _invoice_transfer(
    found: Invoice, creditor: dict[str, str] | None = None, *, held: int | None = None
) -> TransferInstructions | None:
    """The transfer for what may be paid on ``found`` now; ``held``: what is on hold on it, when the caller
    has read it already (the invoice page, from its disputes view)."""
    if found.state != "open":
        return None
    if held is None:
        held = held_cents(db.session, [found.id]).get(found.id, 0)
    payable = max(found.outstanding_cents - held, 0)
    if payable <= 0:
        return None  # wholly on hold (disputed): nothing to transfer now
    return _transfer_for(payable, found.currency, [found.number], creditor)


# The QR codes are images of their own: drawing one takes longer than the rest of the page, and the phone that
# would scan it does not fetch it until its disclosure is opened. The session says whose transfer it is; the
# address only which one, so nobody can have a code drawn for an amount or account of their choosing.
@bp.get("/qr/overview/<currency>")
@reads_only
@debtor_required
def overview_qr(currency: str) -> Response:
    open_invoices, _ = _overview_invoices()
    held = disputes_view(db.session, g.customer.id, now=clock.now()).held
    # The same rest as the overview's transfer: what a debit, a plan or a promise takes care of is not in it.
    arrangements = arrangements_for(
        db.session, g.customer.id, open_invoices, today=_customer_today(), now=clock.now(), disputed=_disputed(held)
    )
    to_pay = to_pay_now(open_invoices, held, arrangements)
    transfers = _overview_transfers(to_pay, creditor_details(db.session))
    return _qr_response(next((transfer for transfer in transfers if transfer.currency == currency), None))


@bp.get("/qr/invoices/<path:number>")
@reads_only
@debtor_required
def invoice_qr(number: str) -> Response:
    found = queries.get_invoice_for_customer(db.session, g.customer.id, number)
    return _qr_response(_invoice_transfer(found) if found is not None else None)


def _qr_response(transfer: TransferInstructions | None) -> Response:
    if transfer is None or not transfer.has_qr_code:
        abort(404)
    etag = transfer.qr_etag
    # Asked again with the code the browser kept: say so, without drawing it.
    response = Response(status=304) if etag in request.if_none_match else Response(transfer.qr_svg(), mimetype=SVG)
    response.set_etag(etag)
    # The page names the code by its ETag (?v=): under that address it never changes, so the browser may keep it.
    # Asked under an older one (a page from before a payment), the current code is sent but not kept.
    fresh = request.args.get("v") == etag
    response.headers["Cache-Control"] = f"private, max-age={QR_MAX_AGE}" if fresh else "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.vary.add("Cookie")
    return response


# The PDF has a path of its own: an invoice number may hold slashes, so "/invoices/<number>/pdf" cannot tell
# the PDF of "X" from the page of an invoice numbered "X/pdf".
@bp.get("/pdf/invoices/<path:number>")
@debtor_required
def invoice_pdf(number: str) -> Response:
    found = queries.get_invoice_for_customer(db.session, g.customer.id, number)
    if found is None:
        abort(404)
    return _pdf_response(found)


def _pdf_response(found: Invoice) -> Response:
    pdf = render_invoice_pdf(found, creditor_details(db.session), status=invoice_status(found, _customer_today()))
    record(
        db.session,
        debtor_actor(),
        "invoice.pdf_downloaded",
        customer_id=g.customer.id,
        subject=("invoice", found.number),
    )
    note_visit("invoice_pdf", found.number)
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{_pdf_filename(found.number)}"'
    return response


def _pdf_filename(number: str) -> str:
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "-" for ch in number)
    return f"invoice-{safe}.pdf"
