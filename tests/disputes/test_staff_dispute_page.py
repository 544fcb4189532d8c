"""A dispute's staff page: the conversation in order with notes set apart, text from the debtor escaped and
its links not clickable; replying (the first reply is the first response), notes the debtor never sees,
assigning, files as downloads; a viewer reads but cannot act."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from portal.disputes.models import Dispute, DisputeMessage
from portal.disputes.queries import conversation_for_debtor
from portal.disputes.services import withdraw
from portal.disputes.uploads import check_upload
from portal.events.models import DomainEvent
from portal.notifications.dispatch import run_due
from tests.disputes.files_support import small_pdf
from tests.disputes.staff_support import NOW, opened, text_of, token_of
from tests.fixtures.factories import TEST_ACTOR


def _page(client, dispute) -> str:
    response = client.get(f"/staff/disputes/{dispute.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _post(client, dispute, action, **data):
    html = _page(client, dispute)
    return client.post(f"/staff/disputes/{dispute.id}/{action}", data={"csrf_token": token_of(html), **data})


def _reread(session, dispute) -> Dispute:
    session.expire_all()
    found = session.get(Dispute, dispute.id)
    assert found is not None
    return found


def test_the_first_reply_is_the_first_response_and_a_note_stays_internal(
    client, session, staff_login, energy_invoice, dispute_on
) -> None:
    dispute = opened(dispute_on, energy_invoice(), days_ago=1)
    with time_machine.travel(NOW, tick=False):
        agent = staff_login(client, "agent", language="en", name="Agnes Agent")
        note = _post(client, dispute, "note", note="Meter photo looks genuine; check with metering.")
        assert note.status_code == 303
        after_note = _reread(session, dispute)
        assert after_note.status == "open" and after_note.first_responded_at is None, "a note is no answer"

        reply = _post(client, dispute, "reply", reply="Thank you. We are checking the meter reading.")
        assert reply.status_code == 303
        page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Your reply is sent." in page
    assert 'id="resolve"' in page, "the outcome forms below the conversation"
    found = _reread(session, dispute)
    assert found.status == "in_progress" and found.first_responded_at == NOW
    kinds = [kind for (kind,) in session.query(DomainEvent.kind).filter(DomainEvent.subject_id == str(dispute.id))]
    assert "dispute.note_added" in kinds and "dispute.staff_replied" in kinds

    # The staff page: all three turns in order, the note marked; the debtor's conversation: without it.
    turns = page.split('class="conversation"', 1)[1].split("</ol>", 1)[0]
    assert turns.index("The meter reading is wrong.") < turns.index("Meter photo") < turns.index("We are checking")
    note_turn = turns.split('<li class="turn-note">', 1)[1].split("</li>", 1)[0]
    assert "Internal note — the customer does not see this" in note_turn and "Agnes Agent" in note_turn
    debtor_sees = [message.body for message in conversation_for_debtor(found)]
    assert debtor_sees == ["The meter reading is wrong.", "Thank you. We are checking the meter reading."]
    assert agent.id == found.messages[-1].staff_id

    # A second reply is a turn more; the first response stays the first.
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert _post(client, dispute, "reply", reply="One more thing.").status_code == 303
    assert _reread(session, dispute).first_responded_at == NOW


def test_an_empty_reply_is_explained_and_nothing_is_written(client, session, staff_login, energy_invoice, dispute_on):
    dispute = opened(dispute_on, energy_invoice(), days_ago=1)
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "agent", language="en")
        response = _post(client, dispute, "reply", reply="   ")
    assert response.status_code == 400
    assert "Write a message, or add a file." in response.get_data(as_text=True)
    assert _reread(session, dispute).status == "open"


def test_text_from_the_debtor_is_escaped_and_its_links_are_not_clickable(
    client, session, staff_login, energy_invoice, dispute_on
) -> None:
    dispute = opened(
        dispute_on,
        energy_invoice(),
        explanation='<script>alert("x")</script> See https://evil.example/login\nSecond line <b>bold</b>',
    )
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="en")
        html = _page(client, dispute)
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "https://evil.example/login" in html
    assert not re.search(r"<a[^>]+evil\.example", html), "a link in a stranger's text is never clickable"
    assert 'class="turn-text">' in html  # white-space: pre-wrap keeps the lines


def test_a_viewer_reads_but_cannot_reply_note_or_assign(client, session, staff_login, energy_invoice, dispute_on):
    dispute = opened(dispute_on, energy_invoice(), days_ago=1)
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="en")
        html = _page(client, dispute)
        assert "The meter reading is wrong." in html
        assert f'action="/staff/disputes/{dispute.id}/reply"' not in html, "no buttons it cannot use"
        assert f'action="/staff/disputes/{dispute.id}/credit-notes"' not in html, "nor forms to resolve it"
        token = token_of(html)
        for action, field in (("reply", "reply"), ("note", "note"), ("assign", "assignee")):
            response = client.post(f"/staff/disputes/{dispute.id}/{action}", data={"csrf_token": token, field: "x"})
            assert response.status_code == 403
    assert _reread(session, dispute).status == "open"
    assert session.query(DisputeMessage).filter_by(dispute_id=dispute.id).count() == 1


def test_assigning_to_an_agent_and_a_page_that_changed_meanwhile(
    app, client, session, staff_login, create_staff, energy_invoice, dispute_on
) -> None:
    dispute = opened(dispute_on, energy_invoice(), days_ago=1)
    colleague = create_staff("agent", name="Cor Colleague")
    viewer = create_staff("viewer", name="Vera Viewer")
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "supervisor", language="en")
        html = _page(client, dispute)
        assert f'<option value="{colleague.id}">Cor Colleague</option>' in html
        assert "Vera Viewer" not in html, "only staff who may handle disputes are offered"
        drawn = re.search(r'name="drawn" type="hidden" value="([^"]+)"', html).group(1)
        response = client.post(
            f"/staff/disputes/{dispute.id}/assign",
            data={"csrf_token": token_of(html), "assignee": str(colleague.id), "drawn": drawn},
        )
        assert response.status_code == 303
        assert "assigned to Cor Colleague" in client.get(response.headers["Location"]).get_data(as_text=True)
        assert _reread(session, dispute).assigned_to_id == colleague.id

        # The same (old) page again: the dispute changed since it was drawn, so nothing changes.
        stale = client.post(
            f"/staff/disputes/{dispute.id}/assign",
            data={"csrf_token": token_of(html), "assignee": "", "drawn": drawn},
        )
        page = client.get(stale.headers["Location"]).get_data(as_text=True)
        assert "Someone else changed this dispute meanwhile" in page
        assert _reread(session, dispute).assigned_to_id == colleague.id

        fresh = _page(client, dispute)
        drawn = re.search(r'name="drawn" type="hidden" value="([^"]+)"', fresh).group(1)
        refused = client.post(
            f"/staff/disputes/{dispute.id}/assign",
            data={"csrf_token": token_of(fresh), "assignee": str(viewer.id), "drawn": drawn},
        )
        assert "Choose someone from the list." in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert _reread(session, dispute).assigned_to_id == colleague.id


def test_a_closed_dispute_takes_no_reply(client, session, staff_login, energy_invoice, dispute_on) -> None:
    dispute = opened(dispute_on, energy_invoice(), days_ago=1)
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "agent", language="en")
        html = _page(client, dispute)
        withdraw(session, session.get(Dispute, dispute.id), actor=TEST_ACTOR)
        session.commit()
        response = client.post(
            f"/staff/disputes/{dispute.id}/reply", data={"csrf_token": token_of(html), "reply": "Hello"}
        )
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This dispute is closed: it can no longer be changed." in page
    assert session.query(DisputeMessage).filter_by(dispute_id=dispute.id).count() == 1


def test_files_are_listed_and_served_as_downloads_of_their_own_dispute_only(
    client, session, staff_login, energy_invoice, dispute_on
) -> None:
    pdf = small_pdf()
    dispute = opened(dispute_on, energy_invoice(), uploads=[check_upload("meter reading.pdf", pdf)])
    other = opened(dispute_on, energy_invoice(), uploads=[check_upload("other.pdf", small_pdf("other"))])
    file_id = session.get(Dispute, dispute.id).files[0].id
    other_file_id = session.get(Dispute, other.id).files[0].id
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="en")
        html = _page(client, dispute)
        link = f"/staff/disputes/{dispute.id}/files/{file_id}"
        assert f'href="{link}" download>meter reading.pdf</a>' in html
        assert re.search(r"meter reading\.pdf</a> <span[^>]*>\(\d[^)]*\)</span>", html), "with its size"
        response = client.get(link)
        assert response.status_code == 200 and response.data == pdf
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert client.get(f"/staff/disputes/{dispute.id}/files/{other_file_id}").status_code == 404


def test_the_customer_page_lists_the_disputes(client, session, staff_login, energy_invoice, dispute_on) -> None:
    invoice = energy_invoice()
    dispute = opened(dispute_on, invoice, days_ago=1)
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="en")
        html = client.get(f"/staff/customers/{invoice.customer_id}").get_data(as_text=True)
    section = html.split('<h2 id="disputes">', 1)[1].split("</section>", 1)[0]
    assert f'href="/staff/disputes/{dispute.id}"' in section and "Amount not right" in text_of(section)


def test_a_reply_reaches_the_debtor_by_e_mail_with_its_words_and_a_link_to_the_dispute(
    app, client, session, staff_login, energy_invoice, dispute_on, smtp_configured
) -> None:
    dispute = opened(dispute_on, energy_invoice(), days_ago=1)
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "agent", language="en")
        reply = "We checked the meter: <b>you are right</b>.\nA credit note follows."
        assert _post(client, dispute, "reply", reply=reply).status_code == 303
        _post(client, dispute, "note", note="Internal: metering confirmed.")
        with app.app_context():
            run_due(app)

    to_debtor = [message for message in smtp_configured.received if str(message["To"]).startswith("customer")]
    answered = [m for m in to_debtor if str(m["Subject"]) == f"We have answered your question {dispute.reference}"]
    assert len(answered) == 1, "one e-mail for the reply, none for the note"
    text = answered[0].get_body(preferencelist=("plain",)).get_content()
    assert "We checked the meter: <b>you are right</b>." in text and "Internal" not in text
    html = answered[0].get_body(preferencelist=("html",)).get_content()
    assert "&lt;b&gt;you are right&lt;/b&gt;" in html
    assert "next=%2Fdispute%2F" in text
