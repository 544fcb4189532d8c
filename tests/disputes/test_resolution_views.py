"""Staff ending a dispute through the forms: each POST goes back to the dispute with a message; bad input and
a second click write nothing; an agent is held to the limit, a supervisor is not, a viewer may only look."""

from __future__ import annotations

import pytest
import time_machine
from flask import render_template
from sqlalchemy import func, select

from portal.disputes.models import CreditNote, Dispute
from portal.extensions import db
from portal.i18n import force_locale
from portal.invoices.models import Invoice
from tests.disputes.resolution_support import NOW, notes_of, set_credit_limit
from tests.fixtures.factories import csrf_token


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture()
def staff(app, staff_login):
    def make(role: str):
        client = app.test_client()
        client.member = staff_login(client, role, language="en")
        return client

    return make


def _post(client, dispute: Dispute, action: str, **data):
    token = csrf_token(client, "/staff/account")
    return client.post(f"/staff/disputes/{dispute.id}/{action}", data={"csrf_token": token, **data})


def _told(client, response) -> list[str]:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith(f"/staff/disputes/{response.dispute_id}#resolve")
    with client.session_transaction("/staff/account") as stored:
        return [message for _category, message in stored.pop("_flashes", [])]


def _answer(client, dispute, action, **data) -> list[str]:
    response = _post(client, dispute, action, **data)
    response.dispute_id = dispute.id
    return _told(client, response)


def _reread(session, dispute: Dispute) -> Dispute:
    session.expire_all()
    return session.get(Dispute, dispute.id)


def test_an_agent_resolves_with_a_credit_note(session, staff, energy_invoice, dispute_on):
    invoice = energy_invoice()
    dispute = dispute_on(invoice, lines=[2])
    agent = staff("agent")

    told = _answer(agent, dispute, "credit-notes", **{f"amount_{invoice.id}": "12,10", "reason": "Billed twice."})

    assert told == [f"Dispute {dispute.reference} is resolved with 1 credit note of €12.10."]
    done = _reread(session, dispute)
    assert (done.status, done.outcome, done.resolved_by_id) == ("resolved", "credit_note", agent.member.id)
    assert [note.amount_cents for note in notes_of(session, dispute)] == [1210]


def test_above_the_limit_an_agent_is_refused_and_a_supervisor_may(session, staff, energy_invoice, dispute_on):
    set_credit_limit(session, 1000)
    invoice = energy_invoice()
    dispute = dispute_on(invoice)
    form = {f"amount_{invoice.id}": "20,00", "reason": "Goodwill."}

    told = _answer(staff("agent"), dispute, "credit-notes", **form)
    assert told == ["A credit note above €10.00 needs a supervisor. Ask one to resolve this dispute."]
    assert notes_of(session, dispute) == [] and _reread(session, dispute).status == "open"

    _answer(staff("supervisor"), dispute, "credit-notes", **form)
    assert [note.amount_cents for note in notes_of(session, dispute)] == [2000]


def test_a_second_click_is_told_the_dispute_was_already_resolved(session, staff, energy_invoice, dispute_on):
    invoice = energy_invoice()
    dispute = dispute_on(invoice)
    agent = staff("agent")
    form = {f"amount_{invoice.id}": "5,00", "reason": "Sorry."}
    _answer(agent, dispute, "credit-notes", **form)

    again = _answer(agent, dispute, "credit-notes", **form)
    rejected = _answer(agent, dispute, "reject", reason="No.", new_due_on="2026-12-20")

    assert again == rejected == ["This dispute has already been resolved. Nothing else has changed."]
    assert session.scalar(select(func.count()).select_from(CreditNote)) == 1
    assert _reread(session, dispute).outcome == "credit_note"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("twelve", "Enter the amount in the digits 0 to 9, for example 25.00."),
        ("70,00", "A credit note can be at most what is still open on the invoice: €66.55."),
        ("", "Enter the amount of the credit note."),
    ],
)
def test_a_bad_credit_amount_says_what_is_wrong_and_writes_nothing(
    session, staff, energy_invoice, dispute_on, amount, message
):
    invoice = energy_invoice()
    dispute = dispute_on(invoice)
    told = _answer(staff("agent"), dispute, "credit-notes", **{f"amount_{invoice.id}": amount, "reason": "Why."})
    assert told == [message]
    assert notes_of(session, dispute) == [] and _reread(session, dispute).status == "open"


def test_an_agent_issues_a_corrected_invoice(session, staff, energy_invoice, dispute_on):
    invoice = energy_invoice()
    dispute = dispute_on(invoice)
    form = {
        "invoice_id": str(invoice.id),
        "corrected_amount": "60,50",
        "due_on": "2026-12-30",
        "reason": "Wrong tariff.",
    }

    told = _answer(staff("agent"), dispute, "corrected-invoice", **form)

    assert told == [
        f"Dispute {dispute.reference} is resolved: invoice {invoice.number}-C of €60.50 replaces the original."
    ]
    corrected = session.scalars(select(Invoice).where(Invoice.number == f"{invoice.number}-C")).one()
    assert (corrected.total_cents, corrected.vat_cents, str(corrected.due_date)) == (6050, 1050, "2026-12-30")
    assert _reread(session, dispute).corrected_invoice_id == corrected.id


@pytest.mark.parametrize(
    ("due_on", "message"),
    [
        ("31-02-2026", "Enter the new due date, such as 16-12-2026."),
        ("soon", "Enter the new due date, such as 16-12-2026."),
        ("", "Choose the new due date."),
        ("1-12-2026", "The new due date must be after today."),
        ("2027-03-01", "The new due date can be at most 60 days from today."),
    ],
)
def test_a_bad_new_due_date_says_what_is_wrong_and_writes_nothing(
    session, staff, energy_invoice, dispute_on, due_on, message
):
    dispute = dispute_on(energy_invoice())
    told = _answer(staff("agent"), dispute, "reject", reason="The reading matches.", new_due_on=due_on)
    assert told == [message]
    assert _reread(session, dispute).status == "open"


def test_an_agent_rejects_with_a_new_due_date(session, staff, energy_invoice, dispute_on):
    dispute = dispute_on(energy_invoice())
    told = _answer(staff("agent"), dispute, "reject", reason="The reading matches.", new_due_on="16-12-2026")
    assert told == [f"Dispute {dispute.reference} is rejected. Reminders resume after the new due date."]
    done = _reread(session, dispute)
    assert (done.outcome, str(done.new_due_on), done.outcome_note) == ("rejected", "2026-12-16", "The reading matches.")


def test_a_viewer_cannot_resolve_but_can_download_a_credit_note(session, staff, energy_invoice, dispute_on):
    invoice = energy_invoice()
    dispute = dispute_on(invoice)
    _answer(staff("agent"), dispute, "credit-notes", **{f"amount_{invoice.id}": "1,00", "reason": "Sorry."})
    [note] = notes_of(session, dispute)
    viewer = staff("viewer")

    other = dispute_on(energy_invoice())
    for action in ("credit-notes", "corrected-invoice", "reject"):
        assert _post(viewer, other, action, reason="x").status_code == 403
    assert _reread(session, other).status == "open"

    download = viewer.get(f"/staff/disputes/credit-notes/{note.id}.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"] == f'attachment; filename="credit-note-{note.number}.pdf"'
    assert download.data.startswith(b"%PDF")
    assert viewer.get("/staff/disputes/credit-notes/999999.pdf").status_code == 404


def _partial(app, dispute_id: int, *, supervisor: bool) -> str:
    """The partial as the dispute's page includes it, for a member of staff reading English."""
    with app.test_request_context("/staff/disputes"), force_locale("en"):
        dispute = db.session.get(Dispute, dispute_id)
        return render_template(
            "staff/disputes/_resolve.html", dispute=dispute, can_resolve=True, can_credit_above_limit=supervisor
        )


def test_the_forms_say_when_a_supervisor_is_needed_and_give_way_to_the_outcome(
    app, session, staff, energy_invoice, dispute_on
):
    set_credit_limit(session, 1000)
    invoice = energy_invoice()
    dispute = dispute_on(invoice, lines=[2])

    html = _partial(app, dispute.id, supervisor=False)
    assert "Credit notes above €10.00 in all need a supervisor." in html
    assert f'name="amount_{invoice.id}" value="12.10"' in html, "prefilled with the disputed part"
    assert html.count('name="csrf_token"') == 3
    assert "need a supervisor" not in _partial(app, dispute.id, supervisor=True)

    _answer(staff("agent"), dispute, "credit-notes", **{f"amount_{invoice.id}": "5,00", "reason": "Sorry."})
    [note] = notes_of(session, dispute)
    html = _partial(app, dispute.id, supervisor=False)
    assert 'name="csrf_token"' not in html
    assert "Resolved with a credit note." in html and note.number in html
    assert f"/staff/disputes/credit-notes/{note.id}.pdf" in html
