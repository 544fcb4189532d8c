"""The debtor proposes a payment plan: the policy and the schedule first, then the agreement, then the plan."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import time_machine
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.plans.models import PaymentPlan, PlanConsent
from tests.debits.debtor_pages import messages, text_of
from tests.plans.debtor_steps import NOW, agree, agreement_on, choices, overdue_invoices, plan_id_of, preview


def test_a_plan_inside_the_policy_starts_at_once_with_its_agreement(
    app, session, create_customer, create_invoice, login, client
) -> None:
    customer = create_customer(language="en")
    invoices = overdue_invoices(create_invoice, customer)
    numbers = [invoice.number for invoice in invoices]
    with time_machine.travel(NOW, tick=False):
        login(client, customer)
        start = text_of(client.get("/plan").get_data(as_text=True))
        assert "What we can agree at once" in start and "At most 6 instalments" in start
        assert "Each instalment at least €25.00" in start and "At most €2,500.00 in total" in start
        shown = preview(client, choices(numbers))
        text = text_of(shown)
        assert "This plan fits our rules. It starts as soon as you agree." in text
        assert "8 Dec 2026 €80.66" in text and "8 Feb 2027 €80.68" in text and "€242.00" in text
        agreement = agreement_on(shown)
        assert f"Invoice {numbers[0]}: €121.00" in agreement and "Total: €242.00" in agreement
        assert "You acknowledge that you owe" in agreement and "No interest is added" in agreement

        response = agree(client, shown, choices(numbers), reason="", income="", expenses="")
        plan_id = plan_id_of(response)
        page = text_of(client.get(f"/plan/{plan_id}").get_data(as_text=True))
        assert "Your payment plan is running" in page and "Left to pay: €242.00." in page
        assert "Upcoming" in page and "Download the agreement (PDF)" in page
        pdf = client.get(f"/plan/{plan_id}/agreement.pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
        assert "attachment" in pdf.headers["Content-Disposition"]
        printed = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
        assert "Total: €242.00" in printed and "- Instalment 3: 8 February 2027, €80.68" in printed

    session.expire_all()
    plan = session.get(PaymentPlan, plan_id)
    assert plan.status == "active" and plan.decided_by == "policy" and len(plan.instalments) == 3
    consent = plan.consent
    assert consent.text == agreement and consent.locale == "en" and len(consent.text_sha256) == 64
    assert consent.ip_address == "127.0.0.1" and consent.user_agent
    assert consent.settings_versions and all(version == 0 for version in consent.settings_versions.values())
    sent = messages(session, customer, "plan_agreed")
    assert len(sent) == 1 and "Your payment plan R" in sent[0].subject and "Total: €242.00" in sent[0].body_text
    (pdf,) = sent[0].attachments  # the agreement in writing, the same document as the download
    assert pdf.filename == f"payment-plan-{plan.reference}.pdf" and pdf.content_type == "application/pdf"
    assert "Total: €242.00" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "attached to this e-mail as a PDF" in sent[0].body_text
    # Its personal link opens the plan's page itself.
    link = re.search(r"http://\S+/p/\S+", sent[0].body_text).group(0)
    assert link.endswith(f"?next=%2Fplan%2F{plan.id}")
    address = urlsplit(link)
    opened = app.test_client().get(f"{address.path}?{address.query}")
    assert opened.headers["Location"] == f"/plan/{plan.id}"


def test_a_twelve_month_plan_goes_to_staff_and_says_by_when(
    app, session, create_customer, create_invoice, login, client
) -> None:
    customer = create_customer(language="en")
    numbers = [invoice.number for invoice in overdue_invoices(create_invoice, customer)]
    data = choices(numbers, instalments="12", reason="I lost my job in October.", income="1.450,00", expenses="1200")
    with time_machine.travel(NOW, tick=False):
        login(client, customer)
        shown = preview(client, data)
        text = text_of(shown)
        assert "This plan has more than 6 instalments, so we cannot agree it at once." in text
        assert "answers by 3 December 2026" in text, "two business days after Tuesday 1 December"
        plan_id = plan_id_of(agree(client, shown, data))
        page = text_of(client.get(f"/plan/{plan_id}").get_data(as_text=True))
        assert "Your proposal is with our team" in page and "We answer by 3 December 2026." in page
    session.expire_all()
    plan = session.get(PaymentPlan, plan_id)
    assert plan.status == "proposed" and plan.policy_reason == "too_many_instalments"
    assert plan.budget == {"income": 145000, "expenses": 120000} and plan.debtor_reason == "I lost my job in October."
    assert plan.consent is not None
    assert len(messages(session, customer, "plan_proposed")) == 1


def test_sending_twice_makes_one_plan(app, session, create_customer, create_invoice, login, client) -> None:
    customer = create_customer(language="en")
    numbers = [invoice.number for invoice in overdue_invoices(create_invoice, customer)]
    with time_machine.travel(NOW, tick=False):
        login(client, customer)
        shown = preview(client, choices(numbers))
        first = plan_id_of(agree(client, shown, choices(numbers)))
        second = plan_id_of(agree(client, shown, choices(numbers)))
        start = text_of(client.get("/plan").get_data(as_text=True))
        assert "Your payment plan R" in start and "You have no invoices that can be part of a payment plan" in start
    assert first == second, "the second click shows the plan the first one made"
    assert session.scalar(select(func.count()).select_from(PaymentPlan)) == 1
    assert len(messages(session, customer, "plan_agreed")) == 1


def test_changed_choices_or_a_forged_seal_store_nothing(
    app, session, create_customer, create_invoice, login, client
) -> None:
    customer = create_customer(language="en")
    numbers = [invoice.number for invoice in overdue_invoices(create_invoice, customer)]
    with time_machine.travel(NOW, tick=False):
        login(client, customer)
        shown = preview(client, choices(numbers))
        changed = agree(client, shown, choices(numbers), instalments="2")
        assert changed.status_code == 400
        page = changed.get_data(as_text=True)
        assert "Your choices changed after we showed you the schedule." in text_of(page)
        assert "8 Jan 2027 €121.00" in text_of(page), "the schedule of the new choices is shown to agree to"
        forged = agree(client, shown, choices(numbers), seal="0" * 64)
        assert forged.status_code == 400
        unticked = agree(client, shown, choices(numbers), agree="")
        assert unticked.status_code == 400 and "Tick the box to confirm that you agree." in text_of(
            unticked.get_data(as_text=True)
        )
    assert session.scalar(select(func.count()).select_from(PaymentPlan)) == 0
    assert session.scalar(select(func.count()).select_from(PlanConsent)) == 0


def test_another_customers_invoice_or_plan_is_refused(
    app, session, create_customer, create_invoice, login, client
) -> None:
    customer = create_customer(language="en")
    other = create_customer(language="en")
    mine = overdue_invoices(create_invoice, customer, count=1)[0]
    theirs = overdue_invoices(create_invoice, other, count=1)[0]
    with time_machine.travel(NOW, tick=False):
        login(client, other)
        shown = preview(client, choices([theirs.number]))
        their_plan = plan_id_of(agree(client, shown, choices([theirs.number])))
        login(client, customer)
        page = client.get("/plan").get_data(as_text=True)
        assert theirs.number not in page and mine.number in page
        from tests.debits.debtor_pages import token_on

        refused = client.post(
            "/plan", data={**choices([theirs.number]), "csrf_token": token_on(page), "action": "preview"}
        )
        assert refused.status_code == 400 and "cannot be part of a plan" in text_of(refused.get_data(as_text=True))
        assert client.get(f"/plan/{their_plan}").status_code == 404
        assert client.get(f"/plan/{their_plan}/agreement.pdf").status_code == 404
    assert session.scalar(select(func.count()).select_from(PaymentPlan)) == 1


def test_bad_input_says_what_to_fix(app, session, create_customer, create_invoice, login, client) -> None:
    customer = create_customer(language="en")
    numbers = [invoice.number for invoice in overdue_invoices(create_invoice, customer)]
    with time_machine.travel(NOW, tick=False):
        login(client, customer)
        page = client.get("/plan").get_data(as_text=True)
        from tests.debits.debtor_pages import token_on

        for data, message in (
            (choices([]), "Choose at least one invoice."),
            (choices(numbers, first=""), "Enter the date of the first instalment."),
            (choices(numbers, first="2026-11-20"), "The first payment cannot be in the past."),
            (choices(numbers, income="lots", expenses="1200"), "Enter amounts such as 1250"),
            (choices(numbers, direct_debit="y"), "Choose how you pay the instalments."),
        ):
            response = client.post("/plan", data={**data, "csrf_token": token_on(page), "action": "preview"})
            assert response.status_code == 400 and message in text_of(response.get_data(as_text=True))

        # One budget amount alone: the other is asked for, at its own field, which is marked.
        for given, missing, message in (
            ({"income": "1850"}, "expenses", "Fill in your fixed costs too, or leave both empty."),
            ({"expenses": "1400"}, "income", "Fill in your income too, or leave both empty."),
        ):
            data = {**choices(numbers), "income": "", "expenses": "", **given}
            response = client.post("/plan", data={**data, "csrf_token": token_on(page), "action": "preview"})
            html = response.get_data(as_text=True)
            assert response.status_code == 400
            assert f'<p class="error" id="{missing}-error">{message}</p>' in html, text_of(html)
            assert re.search(rf'id="{missing}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{missing}"', html)


def test_the_pages_speak_dutch_to_a_dutch_customer(
    app, session, create_customer, create_invoice, login, client
) -> None:
    customer = create_customer(language="nl")
    numbers = [invoice.number for invoice in overdue_invoices(create_invoice, customer)]
    with time_machine.travel(NOW, tick=False):
        login(client, customer)
        shown = preview(client, choices(numbers))
        text = text_of(shown)
        assert "Betaal in termijnen" in text and "Wat we meteen kunnen afspreken" in text
        assert "Deze regeling past binnen onze regels." in text and "€ 242,00" in text
        plan_id = plan_id_of(agree(client, shown, choices(numbers)))
    session.expire_all()
    consent = session.get(PaymentPlan, plan_id).consent
    assert consent.locale == "nl" and "- Factuur" in consent.text and "€\xa0121,00" in consent.text


def test_direct_debit_instalments_name_the_mandate_and_the_creditor_identifier(
    app, session, create_customer, create_invoice, create_direct_debit, login, client
) -> None:
    customer = create_customer(language="en")
    create_direct_debit(customer, reference="UMR-PLAN-0001")
    numbers = [invoice.number for invoice in overdue_invoices(create_invoice, customer)]
    data = choices(numbers, direct_debit="y")
    with time_machine.travel(NOW, tick=False):
        login(client, customer)
        assert "Collect the instalments by direct debit" in text_of(client.get("/plan").get_data(as_text=True))
        shown = preview(client, data)
        agreement = agreement_on(shown)
        assert "under mandate UMR-PLAN-0001 (creditor identifier NL" in agreement
        plan_id = plan_id_of(agree(client, shown, data))
    session.expire_all()
    assert session.get(PaymentPlan, plan_id).method == "direct_debit"


def test_the_invoice_asked_for_is_the_one_ticked(app, session, create_customer, create_invoice, login, client) -> None:
    customer = create_customer(language="en")
    numbers = [invoice.number for invoice in overdue_invoices(create_invoice, customer)]
    with time_machine.travel(NOW, tick=False):
        login(client, customer)
        everything = client.get("/plan").get_data(as_text=True)
        one = client.get(f"/plan?invoice={numbers[1]}").get_data(as_text=True)
    ticked = re.compile(r'value="([^"]+)" id="invoice-\d+" checked')
    assert ticked.findall(everything) == numbers, "by default every overdue invoice"
    assert ticked.findall(one) == [numbers[1]]
    assert 'value="2026-12-08"' in everything, "the first instalment a week ahead"
