"""Staff pages about customers: search, the customer's whole story, notes, and personal links."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import clock
from portal.accounts.pausing import pause_label, pause_reasons
from portal.accounts.view import balance_of
from portal.audit.services import record
from portal.customers import queries, services
from portal.customers.forms import NoteForm, RevokeLinkForm
from portal.customers.models import Customer
from portal.customers.timeline import build_timeline
from portal.debits.staff_views import customer_section as debit_section
from portal.disputes.staff_views import customer_section as disputes_section
from portal.events.registry import categories
from portal.extensions import db
from portal.i18n import _, current_locale
from portal.invoices import queries as invoice_queries
from portal.invoices.models import Invoice
from portal.invoices.pdf import render_invoice_pdf
from portal.invoices.services import invoice_status
from portal.links import services as link_services
from portal.payments.forms import RefundForm
from portal.payments.queries import list_payments_for_customer
from portal.payments.refunds import new_request_id
from portal.plans.staff_views import customer_section as plans_section
from portal.settings.services import creditor_details
from portal.staff.auth import staff_actor
from portal.staff.forms import ConfirmForm
from portal.staff.permissions import Permission, requires, role_allows

LEGACY_PDF_SUFFIX = "/pdf"  # the staff PDF's old path: /invoices/<number>/pdf

bp = Blueprint("staff_customers", __name__, url_prefix="/staff/customers")


def _customer_or_404(customer_id: int) -> Customer:
    customer = queries.get_customer(db.session, customer_id)
    if customer is None:
        abort(404)
    return customer


@bp.get("/")
@requires(Permission.VIEW_CUSTOMERS)
def search() -> str:
    query = request.args.get("q", "")
    page = min(max(1, request.args.get("page", 1, type=int) or 1), 100_000)
    results = queries.search_customers(db.session, query, page=page) if query.strip() else None
    return render_template("staff/customers/search.html", query=query.strip(), results=results)


@bp.get("/<int:customer_id>")
@requires(Permission.VIEW_CUSTOMERS)
def detail(customer_id: int) -> str:
    customer = _customer_or_404(customer_id)
    # Who looked at whose personal and financial details is part of the audit trail.
    record(db.session, staff_actor(), "customer.viewed", customer_id=customer.id)
    db.session.commit()
    return _render_detail(customer, NoteForm(formdata=None))


def _render_detail(customer: Customer, note_form: NoteForm) -> str:
    today = clock.today_for(customer)
    invoices = queries.list_invoices(db.session, customer.id)
    balance = balance_of(db.session, customer)
    role = current_user.role
    timeline_categories = categories()
    wanted = request.args.get("kind", "")
    shown_category = wanted if wanted in {name for name, _label in timeline_categories} else None
    return render_template(
        "staff/customers/detail.html",
        customer=customer,
        country_name=current_locale().territories.get(customer.country, customer.country),
        invoices=[(invoice, invoice_status(invoice, today)) for invoice in invoices],
        # Why no reminder goes out for an invoice (a plan, a promise, a dispute...): the one dunning-pause answer.
        paused_by=pause_reasons(db.session, [i.id for i in invoices if i.state == "open"], clock.now()),
        pause_label=pause_label,
        balance=balance,
        links=queries.list_links(db.session, customer.id),
        now=clock.now(),
        timeline=build_timeline(db.session, customer, category=shown_category),
        timeline_categories=timeline_categories,
        shown_category=shown_category,
        note_form=note_form,
        link_form=ConfirmForm(),
        can_add_notes=role_allows(role, Permission.ADD_NOTES),
        can_manage_links=role_allows(role, Permission.MANAGE_LINKS),
        payments=list_payments_for_customer(db.session, customer.id),
        can_refund=role_allows(role, Permission.REFUND_PAYMENTS),
        refund_form=RefundForm(formdata=None),
        new_refund_request_id=new_request_id,
        direct_debit=debit_section(customer),
        payment_plans=plans_section(customer),
        customer_disputes=disputes_section(customer),
    )


def _invoice_or_404(customer: Customer, number: str) -> Invoice:
    found = invoice_queries.get_invoice_for_customer(db.session, customer.id, number)
    if found is None:
        abort(404)
    return found


@bp.get("/<int:customer_id>/invoices/<path:number>")
@requires(Permission.VIEW_CUSTOMERS)
def invoice(customer_id: int, number: str) -> str | Response:
    """The invoice as staff need it on the phone: lines, VAT, totals, and every payment made on it."""
    customer = _customer_or_404(customer_id)
    found = invoice_queries.get_invoice_for_customer(db.session, customer.id, number)
    if found is None and number.endswith(LEGACY_PDF_SUFFIX):
        # A PDF link of the old form (/invoices/<number>/pdf) from a bookmark; only when no invoice carries the
        # whole number, so an invoice numbered "X/pdf" opens as itself, never as X's PDF.
        pdf_of = _invoice_or_404(customer, number.removesuffix(LEGACY_PDF_SUFFIX))
        return redirect(url_for(".invoice_pdf", customer_id=customer.id, number=pdf_of.number))
    if found is None:
        abort(404)
    record(db.session, staff_actor(), "invoice.viewed", customer_id=customer.id, subject=("invoice", found.number))
    db.session.commit()
    return render_template(
        "staff/customers/invoice.html",
        customer=customer,
        invoice=found,
        status=invoice_status(found, clock.today_for(customer)),
        allocations=queries.list_allocations_for_invoice(db.session, found.id),
    )


# The PDF has a path of its own: an invoice number may hold slashes, so "/invoices/<number>/pdf" cannot tell
# the PDF of "X" from the page of an invoice numbered "X/pdf" (as for debtors, portal/debtor/views.py).
@bp.get("/<int:customer_id>/pdf/invoices/<path:number>")
@requires(Permission.VIEW_CUSTOMERS)
def invoice_pdf(customer_id: int, number: str) -> Response:
    """The same PDF the debtor downloads, so staff see exactly what the customer sees."""
    customer = _customer_or_404(customer_id)
    found = _invoice_or_404(customer, number)
    pdf = render_invoice_pdf(
        found, creditor_details(db.session), status=invoice_status(found, clock.today_for(customer))
    )
    record(
        db.session, staff_actor(), "invoice.pdf_downloaded", customer_id=customer.id, subject=("invoice", found.number)
    )
    db.session.commit()
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "-" for ch in found.number)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="invoice-{safe}.pdf"'
    return response


@bp.post("/<int:customer_id>/notes")
@requires(Permission.ADD_NOTES)
def add_note(customer_id: int) -> str | tuple[str, int] | Response:
    customer = _customer_or_404(customer_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _render_detail(customer, form), 400
    services.add_note(db.session, customer, current_user._get_current_object(), form.body.data or "", staff_actor())
    db.session.commit()
    flash(_("Note added."), "info")
    return redirect(url_for(".detail", customer_id=customer.id, _anchor="timeline"))


@bp.post("/<int:customer_id>/links")
@requires(Permission.MANAGE_LINKS)
def create_link(customer_id: int) -> str:
    customer = _customer_or_404(customer_id)
    issued = link_services.create_link(
        db.session,
        customer,
        ttl_days=current_app.config["LINK_TTL_DAYS"],
        created_by=current_user.email,
        actor=staff_actor(),
    )
    db.session.commit()
    # The token exists only in this response: it is not stored, flashed or put in a redirect.
    return render_template(
        "staff/customers/link_created.html",
        customer=customer,
        link=issued.link,
        link_url=issued.url(current_app.config["BASE_URL"]),
    )


@bp.post("/<int:customer_id>/links/email")
@requires(Permission.MANAGE_LINKS)
def email_link(customer_id: int) -> Response:
    """A new link, sent to the e-mail address on file through the outbox (staff never see the token)."""
    customer = _customer_or_404(customer_id)
    if ConfirmForm().validate_on_submit():
        issued = link_services.send_new_link(
            db.session,
            customer,
            ttl_days=current_app.config["LINK_TTL_DAYS"],
            base_url=current_app.config["BASE_URL"],
            created_by=current_user.email,
            actor=staff_actor(),
        )
        db.session.commit()
        if issued is None:
            flash(_("This customer has no e-mail address on file, so no link was sent."), "error")
        else:
            flash(_("A new link is on its way to %(email)s.", email=customer.email), "info")
    # The result is the message at the top of the page, far above the links section: land (and focus) there.
    return redirect(url_for(".detail", customer_id=customer.id, _anchor="messages"))


@bp.post("/<int:customer_id>/links/<int:link_id>/revoke")
@requires(Permission.MANAGE_LINKS)
def revoke_link(customer_id: int, link_id: int) -> str | Response:
    """First press: a page that says which link stops working for whom. Only the confirmed press revokes."""
    customer = _customer_or_404(customer_id)
    link = queries.get_link_for_customer(db.session, customer.id, link_id)
    if link is None:
        abort(404)
    back = redirect(url_for(".detail", customer_id=customer.id, _anchor="messages"))
    form = RevokeLinkForm()
    if not form.validate_on_submit():
        return back
    if link.revoked_at is not None:
        flash(_("Link %(number)s was already revoked.", number=link.id), "info")
        return back
    if form.confirmed.data != "yes":
        return render_template("staff/customers/revoke_confirm.html", customer=customer, link=link, form=form)
    revoked = link_services.revoke_link(db.session, link, actor=staff_actor())
    db.session.commit()
    if not revoked:  # another press revoked it after this one loaded the link: a double click, a colleague
        flash(_("Link %(number)s was already revoked.", number=link.id), "info")
        return back
    flash(
        _(
            "Link %(number)s of %(name)s is revoked. It no longer opens the portal; they can ask for a new one.",
            number=link.id,
            name=customer.name,
        ),
        "info",
    )
    return back
