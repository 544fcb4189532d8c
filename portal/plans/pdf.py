"""The payment plan agreement as an A4 PDF: the creditor's letterhead, then the agreement text exactly as the
debtor agreed to it, and when and how they agreed. Drawn with fpdf2 like the invoice."""

from __future__ import annotations

from portal.extensions import db
from portal.i18n import _, current_language, force_locale, format_moment
from portal.invoices.pdf import FONT, MUTED, TEXT, InvoicePDF, _header
from portal.plans.models import PaymentPlan
from portal.settings.services import creditor_details


def render_agreement_pdf(plan: PaymentPlan, text: str, *, title: str) -> bytes:
    creditor = creditor_details(db.session)
    pdf = InvoicePDF(creditor["name"])
    pdf.set_title(title)
    pdf.set_author(creditor["name"])
    pdf.set_lang(current_language().replace("_", "-"))
    pdf.add_page()
    pdf.set_text_color(*TEXT)
    _header(pdf, creditor)
    pdf.ln(10)
    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for line in text.splitlines():
        heading = line[:2].rstrip(".").isdigit() and not line.startswith("-")
        pdf.set_font(FONT, "B" if heading else "", 11 if heading else 10)
        if heading:
            pdf.ln(2)
        pdf.multi_cell(0, 5.5, line or " ", align="L", new_x="LMARGIN", new_y="NEXT")
    if plan.consent is not None:
        pdf.ln(6)
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(*MUTED)
        agreed = _("Agreed in the portal on %(moment)s.", moment=format_moment(plan.consent.accepted_at))
        pdf.multi_cell(0, 5, agreed, align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def agreement_document(plan: PaymentPlan) -> tuple[str, bytes]:
    """(file name, PDF) of an agreed plan's agreement, in the language of the text agreed to, so headings and
    agreement never mix two languages: the download on the plan's page and the confirmation e-mail's attachment."""
    if plan.consent is None:
        raise ValueError(f"plan {plan.reference} has no consent to print")
    with force_locale(plan.consent.locale):
        title = _("Payment plan %(reference)s", reference=plan.reference)
        return f"payment-plan-{plan.reference}.pdf", render_agreement_pdf(plan, plan.consent.text, title=title)
