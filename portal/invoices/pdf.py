"""The printable invoice: an A4 PDF in the request's language, drawn with fpdf2.

Creditor, heading, customer next to the facts, lines, VAT per rate, totals, how to pay. Text uses the
vendored DejaVu fonts, because the PDF core fonts cannot print "€".
"""

from __future__ import annotations

from pathlib import Path
from textwrap import wrap
from typing import TYPE_CHECKING

from fpdf import FPDF
from fpdf.fonts import FontFace

from portal.i18n import (
    _,
    current_language,
    format_day,
    format_money,
    format_percent_rate,
    format_quantity,
    format_unit_price,
)

if TYPE_CHECKING:
    from portal.invoices.models import Invoice
    from portal.invoices.services import InvoiceStatus

FONT_DIR = Path(__file__).resolve().parents[2] / "static" / "fonts"
FONT = "DejaVu"
MARGIN = 20.0
TEXT = (33, 37, 41)
MUTED = (100, 106, 112)
RULE = (190, 194, 198)
HEADING_FILL = (240, 242, 244)


class InvoicePDF(FPDF):
    """A4 document with a quiet footer: creditor name, VAT number and the page number."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN)
        self.alias_nb_pages()

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        page = _("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(self.epw / 2, 5, self.footer_text)
        self.cell(self.epw / 2, 5, page, align="R")


def _period(invoice: Invoice) -> str | None:
    if invoice.period_start is None:
        return None
    if invoice.period_end is None or invoice.period_end == invoice.period_start:
        return format_day(invoice.period_start)
    return _("%(start)s to %(end)s", start=format_day(invoice.period_start), end=format_day(invoice.period_end))


def _header(pdf: FPDF, creditor: dict[str, str]) -> None:
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 7, creditor["name"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(*MUTED)
    contact = [line.strip() for line in creditor.get("address", "").splitlines() if line.strip()]
    contact.append("  ·  ".join(part for part in (creditor.get("email"), creditor.get("phone")) if part))
    for line in contact:
        pdf.cell(0, 4.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*TEXT)


def _parties(pdf: FPDF, invoice: Invoice) -> None:
    """Customer name and address on the left, the facts table on the right, side by side."""
    top = pdf.get_y()
    for i, line in enumerate([invoice.customer.name, *invoice.customer.address_lines]):
        pdf.set_font(FONT, "B" if i == 0 else "", 10)
        pdf.multi_cell(82, 5.5, line, align="L", new_x="LMARGIN", new_y="NEXT")
    left_bottom = pdf.get_y()
    facts = [(_("Invoice date"), format_day(invoice.issue_date)), (_("Due date"), format_day(invoice.due_date))]
    if period := _period(invoice):
        facts.append((_("Service period"), period))
    facts.append((_("Customer number"), invoice.customer.external_ref))
    label_x = MARGIN + 88
    value_x = label_x + max(pdf.get_string_width(label) for label, _value in facts) + 4
    pdf.set_y(top)
    for label, value in facts:
        y = pdf.get_y()
        pdf.set_xy(label_x, y)
        pdf.set_text_color(*MUTED)
        pdf.cell(value_x - label_x, 5.5, label)
        pdf.set_text_color(*TEXT)
        pdf.set_xy(value_x, y)
        pdf.multi_cell(pdf.w - MARGIN - value_x, 5.5, value, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_bottom, pdf.get_y()) + 10)


def _lines(pdf: FPDF, invoice: Invoice) -> None:
    headings = (_("Description"), _("Quantity"), _("Unit price"), _("VAT"), _("Amount"))
    pdf.set_font(FONT, "", 9.5)
    pdf.set_draw_color(*RULE)
    heading_style = FontFace(family=FONT, emphasis="BOLD", fill_color=HEADING_FILL)
    with pdf.table(
        col_widths=(70, 28, 28, 16, 28),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        headings_style=heading_style,
        line_height=6,
        padding=(1.5, 1.5),
    ) as table:
        table.row(headings)
        for line in invoice.lines:
            quantity = f"{format_quantity(line.quantity)} {line.unit}".strip()
            price = format_unit_price(line.unit_price, invoice.currency)
            amount = format_money(line.amount_cents, invoice.currency)
            table.row((line.description, quantity, price, format_percent_rate(line.vat_rate), amount))
    pdf.ln(4)


def _totals(pdf: FPDF, invoice: Invoice) -> None:
    rows = [(_("Subtotal"), invoice.subtotal_cents)]
    for vat in invoice.vat_totals:
        base = format_money(vat.base_cents, invoice.currency)
        rows.append((_("VAT %(rate)s on %(base)s", rate=format_percent_rate(vat.rate), base=base), vat.vat_cents))
    if not invoice.vat_totals:
        rows.append((_("VAT"), invoice.vat_cents))
    label_x, label_w, value_w = MARGIN + 60, 70.0, 40.0
    if pdf.will_page_break(len(rows) * 6 + 20):
        pdf.add_page()
    pdf.set_font(FONT, "", 10)
    for label, cents in rows:
        pdf.set_x(label_x)
        pdf.cell(label_w, 6, label, align="R")
        pdf.cell(value_w, 6, format_money(cents, invoice.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*RULE)
    pdf.line(label_x + 20, pdf.get_y() + 1, pdf.w - MARGIN, pdf.get_y() + 1)
    pdf.ln(2.5)
    pdf.set_font(FONT, "B", 12)
    pdf.set_x(label_x)
    pdf.cell(label_w, 7, _("Total"), align="R")
    pdf.cell(value_w, 7, format_money(invoice.total_cents, invoice.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)


def _payment(pdf: FPDF, invoice: Invoice, creditor: dict[str, str], status: InvoiceStatus) -> None:
    if status.state == "paid":
        heading = _("Paid - thank you.")
    elif status.state == "cancelled":
        heading = _("This invoice has been cancelled. You do not need to pay it.")
    else:
        heading = _("How to pay")
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(0, 7, heading, align="L", new_x="LMARGIN", new_y="NEXT")
    if status.state in ("paid", "cancelled"):
        return
    pdf.set_font(FONT, "", 10)
    text = _(
        "Please transfer %(amount)s to %(iban)s (%(name)s), quoting %(reference)s.",
        amount=format_money(invoice.total_cents, invoice.currency),
        iban=" ".join(wrap(creditor["iban"].replace(" ", "").upper(), 4)),
        name=creditor["name"],
        reference=invoice.number,
    )
    pdf.multi_cell(0, 5.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    if creditor.get("bic"):
        pdf.set_text_color(*MUTED)
        pdf.cell(0, 5.5, _("BIC: %(bic)s", bic=creditor["bic"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*TEXT)


def render_invoice_pdf(invoice: Invoice, creditor: dict[str, str], *, status: InvoiceStatus) -> bytes:
    """The invoice as PDF bytes, in the current request's language."""
    footer = creditor["name"]
    if creditor.get("vat_number"):
        footer += "  ·  " + _("VAT number %(vat_number)s", vat_number=creditor["vat_number"])
    pdf = InvoicePDF(footer)
    title = _("Invoice %(number)s", number=invoice.number)
    pdf.set_title(invoice.number)
    pdf.set_author(creditor["name"])
    pdf.set_lang(current_language().replace("_", "-"))
    pdf.add_page()
    pdf.set_text_color(*TEXT)
    _header(pdf, creditor)
    pdf.ln(12)
    pdf.set_font(FONT, "B", 20)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _parties(pdf, invoice)
    _lines(pdf, invoice)
    _totals(pdf, invoice)
    _payment(pdf, invoice, creditor, status)
    return bytes(pdf.output())
