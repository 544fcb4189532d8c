"""Staff offer another plan; the debtor accepts it (with consent to the new agreement) or declines it."""

from __future__ import annotations

from datetime import date

import time_machine

from portal.accounts.pausing import pause_reason
from portal.audit.services import Actor
from portal.plans.decisions import counter_plan, reject_plan
from portal.plans.models import PaymentPlan
from tests.debits.debtor_pages import messages, text_of, token_on
from tests.plans.debtor_steps import NOW, agree, choices, overdue_invoices, plan_id_of, preview, seal_on

STAFF = Actor(type="staff", id="supervisor@example.com")


def _countered(app, session, client, login, customer, numbers) -> int:
    data = choices(numbers, instalments="12")
    login(client, customer)
    plan_id = plan_id_of(agree(client, preview(client, data), data))
    with app.app_context():
        plan = session.get(PaymentPlan, plan_id)
        counter_plan(
            session,
            plan,
            instalments=6,
            every="month",
            first=date(2026, 12, 15),
            actor=STAFF,
            staff_email="supervisor@example.com",
            supervisor=True,
            note="Six months is the longest we can do.",
        )
        session.commit()
    return plan_id


def test_accepting_the_offer_starts_it_with_consent_to_the_new_schedule(
    app, session, create_customer, create_invoice, login, client
) -> None:
    customer = create_customer(language="en")
    invoices = overdue_invoices(create_invoice, customer)
    with time_machine.travel(NOW, tick=False):
        plan_id = _countered(app, session, client, login, customer, [invoice.number for invoice in invoices])
        assert len(messages(session, customer, "plan_countered")) == 1
        page = client.get(f"/plan/{plan_id}").get_data(as_text=True)
        text = text_of(page)
        assert "We offer you another plan" in text and "Six months is the longest we can do." in text
        assert "Our offer" in text and "What you proposed" in text
        assert "15 May 2027 €40.35" in text, "staff's schedule: 242.00 in six, the cent in the last"
        unticked = client.post(
            f"/plan/{plan_id}/answer", data={"csrf_token": token_on(page), "seal": seal_on(page), "action": "accept"}
        )
        assert unticked.status_code == 400 and "Tick the box" in text_of(unticked.get_data(as_text=True))
        form = {"csrf_token": token_on(page), "seal": seal_on(page), "agree": "y", "action": "accept"}
        assert client.post(f"/plan/{plan_id}/answer", data=form).status_code == 302
        shown = text_of(client.get(f"/plan/{plan_id}").get_data(as_text=True))
        assert "Your payment plan is running" in shown
        again = client.post(f"/plan/{plan_id}/answer", data=form)
        assert again.status_code == 400 and "no proposal from us waiting" in text_of(again.get_data(as_text=True))
        session.expire_all()
        plan = session.get(PaymentPlan, plan_id)
        assert plan.status == "active" and len(plan.instalments) == 6
        assert "- Instalment 6: 15 May 2027, €40.35" in plan.consent.text and "Instalment 7" not in plan.consent.text
        assert all(pause_reason(session, invoice, NOW) == "plan" for invoice in invoices)
    assert len(messages(session, customer, "plan_agreed")) == 1


def test_declining_the_offer_ends_the_proposal(app, session, create_customer, create_invoice, login, client) -> None:
    customer = create_customer(language="en")
    numbers = [invoice.number for invoice in overdue_invoices(create_invoice, customer)]
    with time_machine.travel(NOW, tick=False):
        plan_id = _countered(app, session, client, login, customer, numbers)
        page = client.get(f"/plan/{plan_id}").get_data(as_text=True)
        stranger = create_customer(language="en")
        overdue_invoices(create_invoice, stranger, count=1)
        login(client, stranger)
        overview = client.get("/plan").get_data(as_text=True)
        refused = client.post(f"/plan/{plan_id}/answer", data={"csrf_token": token_on(overview), "action": "decline"})
        assert refused.status_code == 404, "another customer cannot answer for this one"
        login(client, customer)
        page = client.get(f"/plan/{plan_id}").get_data(as_text=True)
        response = client.post(f"/plan/{plan_id}/answer", data={"csrf_token": token_on(page), "action": "decline"})
        assert response.status_code == 302
        assert "You declined our offer" in text_of(client.get(f"/plan/{plan_id}").get_data(as_text=True))
    session.expire_all()
    assert session.get(PaymentPlan, plan_id).status == "declined"


def test_a_rejected_proposal_says_why_on_the_page_and_by_e_mail(
    app, session, create_customer, create_invoice, login, client
) -> None:
    customer = create_customer(language="en")
    numbers = [invoice.number for invoice in overdue_invoices(create_invoice, customer)]
    data = choices(numbers, instalments="12")
    with time_machine.travel(NOW, tick=False):
        login(client, customer)
        plan_id = plan_id_of(agree(client, preview(client, data), data))
        with app.app_context():
            plan = session.get(PaymentPlan, plan_id)
            reason = "We need the first payment this month."
            reject_plan(session, plan, reason=reason, actor=STAFF, staff_email="supervisor@example.com")
            session.commit()
        page = text_of(client.get(f"/plan/{plan_id}").get_data(as_text=True))
        assert "We cannot agree this plan" in page and "Why: We need the first payment this month." in page
        assert "Propose a different plan" in page
        assert client.get(f"/plan/{plan_id}/agreement.pdf").status_code == 404, "nothing was agreed to print"
    sent = messages(session, customer, "plan_rejected")
    assert len(sent) == 1 and "We need the first payment this month." in sent[0].body_text
    assert "/p/" in sent[0].body_text, "a fresh personal link to act on it"
