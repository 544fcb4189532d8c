"""The customer's page: details, invoices, links, notes and the timeline of the whole story."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit.services import SYSTEM
from portal.customers.timeline import build_timeline
from portal.extensions import db
from portal.links.models import PortalLink
from portal.links.services import create_link
from tests.fixtures.factories import csrf_token


def _today():
    """The customers' local date (the factories make them in Europe/Amsterdam)."""
    return datetime.now(ZoneInfo("Europe/Amsterdam")).date()


def _page(client, customer):
    response = client.get(f"/staff/customers/{customer.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _timeline(html):
    return html.split('<table class="timeline">', 1)[1].split("</table>", 1)[0]


def _post(client, customer, path, **data):
    token = csrf_token(client, f"/staff/customers/{customer.id}")
    return client.post(f"/staff/customers/{customer.id}{path}", data={"csrf_token": token, **data})


def test_the_page_shows_details_balance_and_invoices(client, staff_login, create_customer, create_invoice):
    customer = create_customer(
        name="Noor El Amrani",
        external_ref="K-20001",
        email="noor@example.com",
        phone="+31 6 1234 5678",
        kind="business",
    )
    create_invoice(
        customer,
        number="F-OLD",
        issue_date=_today() - timedelta(days=40),
        due_date=_today() - timedelta(days=26),
    )
    staff_login(client, "viewer", language="en")
    html = _page(client, customer)
    assert "<h1>Noor El Amrani" in html
    for fact in ("K-20001", "noor@example.com", "+31 6 1234 5678", "Business", "Dorpsstraat 1", "Netherlands"):
        assert fact in html
    assert "F-OLD" in html and "Overdue by 26 days" in html
    assert 'class="overdue-text">€30.25' in html


def test_a_viewer_reads_but_cannot_add_notes_or_make_links(client, staff_login, create_customer, issue_link):
    customer = create_customer()
    issued = issue_link(customer)
    staff_login(client, "viewer", language="en")
    assert client.get("/staff/customers/", query_string={"q": customer.external_ref}).status_code == 200
    html = _page(client, customer)
    assert "Add note" not in html and "Create a new link" not in html and "Revoke" not in html
    assert _post(client, customer, "/notes", body="I was here").status_code == 403
    assert _post(client, customer, "/links").status_code == 403
    assert _post(client, customer, f"/links/{issued.link.id}/revoke").status_code == 403


def test_an_agent_adds_a_note_and_it_shows_in_the_timeline(client, staff_login, create_customer, session):
    customer = create_customer()
    agent = staff_login(client, "agent", language="en")
    response = _post(client, customer, "/notes", body="Called: pays on the 25th.\r\nSalary comes late this month.")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/customers/{customer.id}#timeline")

    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Note added." in html
    timeline = _timeline(html)
    assert "Called: pays on the 25th.\nSalary comes late this month." in timeline
    assert agent.name in timeline
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "note.added")).one()
    assert (event.customer_id, event.actor_id) == (customer.id, agent.email)


def test_an_empty_or_too_long_note_is_refused_with_a_message(client, staff_login, create_customer):
    customer = create_customer()
    staff_login(client, "agent", language="en")
    empty = _post(client, customer, "/notes", body="   ")
    assert empty.status_code == 400
    assert "Please write the note." in empty.get_data(as_text=True)
    too_long = _post(client, customer, "/notes", body="x" * 5001)
    assert too_long.status_code == 400
    assert "A note can be at most 5000 characters long." in too_long.get_data(as_text=True)


def test_the_timeline_tells_what_the_debtor_did_newest_first(
    app, client, staff_login, create_customer, create_invoice, login, frozen_clock
):
    customer = create_customer()
    invoice = create_invoice(customer, number="F-VIEWED", issue_date=_today() - timedelta(days=3))
    debtor = app.test_client()
    login(debtor, customer)
    assert debtor.get("/overview").status_code == 200
    assert debtor.get(f"/invoices/{invoice.number}").status_code == 200
    assert debtor.get(f"/invoices/{invoice.number}/pdf").status_code == 200
    assert debtor.get(f"/invoices/{invoice.number}").status_code == 200  # back to it: one line, counted
    frozen_clock.shift(timedelta(minutes=45))  # back later the same day, from the same browser: a new visit
    assert debtor.get("/overview").status_code == 200

    staff_login(client, "viewer", language="en")
    timeline = _timeline(_page(client, customer))
    titles = re.findall(r"</th>\s*<td>([^<]+)</td>", timeline)
    assert titles == ["Visited the portal", "Visited the portal", "Link created", "Invoice issued"]
    pages = [re.findall(r"<li>([^<]+)</li>", visit) for visit in timeline.split("Visited the portal")[1:]]
    assert pages == [["Overview"], ["Overview", "Invoice F-VIEWED (2 times)", "PDF of invoice F-VIEWED"]]
    assert "Opened the personal link" in timeline
    assert "3 pages seen" in timeline and "1 page seen" in timeline
    assert "Invoice F-VIEWED" in timeline
    assert "Customer" in timeline, "the debtor is named as the one who acted"


def test_staff_filter_the_timeline_by_kind(app, client, staff_login, create_customer, create_invoice, login):
    customer = create_customer()
    create_invoice(customer, number="F-FILTER")
    login(app.test_client(), customer)
    staff_login(client, "viewer", language="nl")

    page = client.get(f"/staff/customers/{customer.id}?kind=invoice").get_data(as_text=True)
    titles = re.findall(r"</th>\s*<td>([^<]+)</td>", _timeline(page))
    assert titles == ["Factuur verstuurd"]
    assert '<option value="invoice" selected>Facturen</option>' in page
    everything = client.get(f"/staff/customers/{customer.id}?kind=nonsense").get_data(as_text=True)
    assert "Link gemaakt" in _timeline(everything), "an unknown filter shows everything"


def test_a_new_link_is_shown_once_and_works_for_the_debtor(app, client, staff_login, create_customer, session):
    customer = create_customer()
    agent = staff_login(client, "agent", language="en")
    response = _post(client, customer, "/links")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "it is shown only this once" in html
    url = re.search(r'value="(http://localhost/p/[A-Za-z0-9_-]{43})"', html).group(1)

    debtor = app.test_client()
    opened = debtor.get(url.removeprefix("http://localhost"))
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/overview")

    page = _page(client, customer)
    token = url.rsplit("/", 1)[1]
    assert token not in page, "the token is never shown again"
    link = session.scalars(select(PortalLink).where(PortalLink.customer_id == customer.id)).one()
    assert link.created_by == agent.email and token not in link.token_hash
    links_table = page.split('id="links"', 1)[1].split("</table>", 1)[0]
    assert agent.email in links_table and "Active" in links_table and "Never" not in links_table, "last used is shown"


def test_revoking_a_link_stops_it_and_another_customers_link_is_not_found(
    app, client, staff_login, create_customer, issue_link, session
):
    customer, other = create_customer(), create_customer()
    issued, others = issue_link(customer), issue_link(other)
    staff_login(client, "agent", language="en")

    assert _post(client, customer, f"/links/{others.link.id}/revoke").status_code == 404
    session.expire_all()
    assert session.get(PortalLink, others.link.id).revoked_at is None

    response = _post(client, customer, f"/links/{issued.link.id}/revoke", confirmed="yes")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Link {issued.link.id} of {customer.name} is revoked." in html
    assert "Revoked on" in html
    assert "Link revoked" in _timeline(html)
    debtor = app.test_client()
    assert debtor.get(f"/p/{issued.token}").headers["Location"].endswith("/link"), "the link no longer opens"


def test_an_unknown_customer_is_not_found(client, staff_login, create_customer):
    customer = create_customer()
    staff_login(client, "agent", language="en")
    assert client.get("/staff/customers/987654321").status_code == 404
    token = csrf_token(client, f"/staff/customers/{customer.id}")
    assert client.post("/staff/customers/987654321/notes", data={"csrf_token": token, "body": "x"}).status_code == 404
    assert client.post("/staff/customers/987654321/links", data={"csrf_token": token}).status_code == 404


def test_the_timeline_keeps_the_latest_entries_and_says_when_there_are_more(
    app, session, create_customer, create_staff
):
    from portal.customers.services import add_note
    from tests.fixtures.factories import TEST_ACTOR

    customer, author = create_customer(), create_staff()
    for n in range(3):
        add_note(session, customer, author, f"note {n}", TEST_ACTOR)
    session.commit()
    with app.test_request_context():
        full = build_timeline(db.session, customer)
        short = build_timeline(db.session, customer, limit=2)
    assert [entry.detail for entry in full.entries] == ["note 2", "note 1", "note 0"] and not full.has_more
    assert [entry.detail for entry in short.entries] == ["note 2", "note 1"] and short.has_more


def test_an_agent_sends_a_new_link_by_email_and_it_shows_in_the_timeline(
    client, create_customer, staff_login, session, smtp_configured
):
    customer = create_customer(email="noor@example.nl", language="nl", name="Noor El Amrani")
    staff_login(client, "agent")
    token = csrf_token(client, f"/staff/customers/{customer.id}")

    response = client.post(f"/staff/customers/{customer.id}/links/email", data={"csrf_token": token})

    assert response.status_code == 302
    [email] = smtp_configured.received
    assert email["To"] == "noor@example.nl"
    assert email["Subject"].startswith("Je persoonlijke betaalpagina")
    page = client.get(f"/staff/customers/{customer.id}").get_data(as_text=True)
    assert "E-mail: Je persoonlijke betaalpagina" in page
    viewed = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "customer.viewed", AuditEvent.customer_id == customer.id)
    ).all()
    assert len(viewed) >= 1, "staff looking at a customer is recorded"


def test_revoke_first_says_which_link_of_whom_stops_working_and_only_the_confirmation_revokes(
    app, client, staff_login, create_customer, issue_link, session
):
    customer = create_customer(name="Sanne de Vries", external_ref="C-3101")
    issued = issue_link(customer)
    staff_login(client, "agent", language="en")

    asked = _post(client, customer, f"/links/{issued.link.id}/revoke")
    assert asked.status_code == 200
    html = asked.get_data(as_text=True)
    assert f"<h1>Revoke link {issued.link.id} of Sanne de Vries?</h1>" in html
    assert "C-3101" in html and "by tests" in html, "which customer, and who made the link"
    assert "The customer can no longer open this link." in html
    assert "They can ask for a new link" in html
    assert f'<button type="submit" class="button button-danger">Revoke link {issued.link.id}</button>' in html
    assert f'href="/staff/customers/{customer.id}#links" class="button button-secondary">Cancel</a>' in html
    session.expire_all()
    assert session.get(PortalLink, issued.link.id).revoked_at is None, "nothing happens before the confirmation"
    assert app.test_client().get(f"/p/{issued.token}").headers["Location"].endswith("/overview")

    done = _post(client, customer, f"/links/{issued.link.id}/revoke", confirmed="yes")
    assert done.headers["Location"] == f"/staff/customers/{customer.id}#messages"
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    main = page.split('<main id="main"', 1)[1]
    assert main.index('id="messages"') < main.index("<h1"), "the result is the first thing on the page"
    assert re.search(rf'role="status">Link {issued.link.id} of Sanne de Vries is revoked\.', main)
    session.expire_all()
    assert session.get(PortalLink, issued.link.id).revoked_at is not None

    again = _post(client, customer, f"/links/{issued.link.id}/revoke", confirmed="yes")
    assert f"Link {issued.link.id} was already revoked." in client.get(again.headers["Location"]).get_data(as_text=True)


def test_invoice_numbers_open_the_invoice_and_its_pdf(client, app, staff_login, create_customer, create_invoice, login):
    from sqlalchemy import func

    customer = create_customer(language="en", name="Noor El Amrani")
    create_invoice(customer, number="2026/F-77", lines=[("Stroom november", "100", "kWh", "0.25000", "21")])
    other = create_customer()
    create_invoice(other, number="OTHER-1")
    staff_login(client, "viewer", language="en")

    html = _page(client, customer)
    page_url = f"/staff/customers/{customer.id}/invoices/2026/F-77"
    pdf_url = f"/staff/customers/{customer.id}/pdf/invoices/2026/F-77"
    assert f'<a href="{page_url}">2026/F-77</a>' in html, "the invoice number opens the invoice"
    assert f'href="{pdf_url}" download' in html, "and its PDF is one click away"

    shown = client.get(page_url)
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert "Invoice 2026/F-77" in text and "Noor El Amrani" in text
    assert "Stroom november" in text and "€30.25" in text and "VAT 21%" in text
    assert "No payments through the portal on this invoice yet." in text

    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert 'filename="invoice-2026-F-77.pdf"' in pdf.headers["Content-Disposition"]
    # Staff looking at an invoice is in the audit trail as staff, not as the customer.
    rows = db.session.execute(
        select(AuditEvent.action, AuditEvent.actor_type, func.count())
        .where(AuditEvent.customer_id == customer.id, AuditEvent.subject_id == "2026/F-77")
        .group_by(AuditEvent.action, AuditEvent.actor_type)
    ).all()
    expected = [("invoice.pdf_downloaded", "staff", 1), ("invoice.viewed", "staff", 1)]
    assert sorted(tuple(row) for row in rows) == expected

    assert client.get(f"/staff/customers/{customer.id}/invoices/OTHER-1").status_code == 404, "only its own invoices"
    assert client.get(f"/staff/customers/{customer.id}/pdf/invoices/OTHER-1").status_code == 404
    assert client.get(f"/staff/customers/{customer.id}/invoices/OTHER-1/pdf").status_code == 404


def test_invoices_numbered_x_and_x_pdf_each_open_with_their_own_pdf(
    client, staff_login, create_customer, create_invoice
):
    customer = create_customer(language="en")
    create_invoice(customer, number="X", lines=[("Stroom X", "100", "kWh", "0.25000", "21")])
    create_invoice(customer, number="X/pdf", lines=[("Gas X-pdf", "10", "m3", "1.00000", "21")])
    staff_login(client, "viewer", language="en")
    base = f"/staff/customers/{customer.id}"

    html = _page(client, customer)
    for number in ("X", "X/pdf"):
        assert f'<a href="{base}/invoices/{number}">{number}</a>' in html
        assert f'href="{base}/pdf/invoices/{number}" download' in html
    page = client.get(f"{base}/invoices/X/pdf")
    assert page.status_code == 200, "the invoice numbered X/pdf opens as itself"
    assert "Invoice X/pdf" in page.get_data(as_text=True) and "Gas X-pdf" in page.get_data(as_text=True)
    assert "Stroom X" in client.get(f"{base}/invoices/X").get_data(as_text=True)
    for number, filename in (("X", "invoice-X.pdf"), ("X/pdf", "invoice-X-pdf.pdf")):
        pdf = client.get(f"{base}/pdf/invoices/{number}")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        assert f'filename="{filename}"' in pdf.headers["Content-Disposition"]


def test_an_old_staff_pdf_link_still_gives_the_pdf(client, staff_login, create_customer, create_invoice):
    customer = create_customer(language="en")
    create_invoice(customer, number="2026/F-78")
    staff_login(client, "viewer", language="en")
    old = client.get(f"/staff/customers/{customer.id}/invoices/2026/F-78/pdf")
    assert old.status_code == 302
    assert old.headers["Location"] == f"/staff/customers/{customer.id}/pdf/invoices/2026/F-78"


def test_the_staff_invoice_page_lists_its_payments(client, app, staff_login, create_customer, create_invoice, login):
    from tests.payments.conftest import start_payment

    customer = create_customer(language="en")
    create_invoice(customer, number="F-PAID")
    debtor = app.test_client()
    login(debtor, customer)
    checkout = start_payment(debtor, ["F-PAID"]).headers["Location"].removeprefix("http://localhost")
    debtor.post(f"{checkout}/paid", data={"csrf_token": csrf_token(debtor, checkout)})
    staff_login(client, "viewer", language="en")
    text = client.get(f"/staff/customers/{customer.id}/invoices/F-PAID").get_data(as_text=True)
    payments = text.split("Payments on this invoice", 1)[1]
    assert "iDEAL" in payments and "€30.25" in payments


def test_the_links_list_says_who_or_what_made_each_link_in_words(app, client, staff_login, create_customer, session):
    customer = create_customer()
    with app.app_context():
        owner = session.get(type(customer), customer.id)
        for source in ("demo", "debtor-request", "dispute_received", "agent@zonnig.example"):
            create_link(db.session, owner, ttl_days=30, created_by=source, actor=SYSTEM)
        db.session.commit()
    staff_login(client, "agent", language="nl")
    page = _page(client, customer)
    for shown in ("Demogegevens", "Aangevraagd door de klant", "E-mail: vraag ontvangen", "agent@zonnig.example"):
        assert f"<td>{shown}</td>" in page
    assert "dispute_received" not in page and "debtor-request" not in page
