"""Sent messages in the staff area: readable as the customer gets them, retryable when they failed."""

from __future__ import annotations

from sqlalchemy import select

from portal.notifications.models import OutboxMessage
from tests.fixtures.factories import csrf_token


def test_staff_read_the_kept_message_as_the_customer_would_get_it(app, client, create_customer, session, staff_login):
    create_customer(email="emily@example.com", language="en", name="Emily Carter")
    debtor = app.test_client()
    debtor.post("/link", data={"email": "emily@example.com", "csrf_token": csrf_token(debtor, "/link")})
    message = session.scalars(select(OutboxMessage)).one()

    staff_login(client, "viewer")
    listing = client.get("/staff/messages/").get_data(as_text=True)
    assert "Your new link to your payment page" in listing
    assert "emily@example.com" in listing

    detail = client.get(f"/staff/messages/{message.id}").get_data(as_text=True)
    assert "Hello Emily Carter," in detail
    html = client.get(f"/staff/messages/{message.id}/html")
    assert html.mimetype == "text/html"
    assert "Open my payment page" in html.get_data(as_text=True)
    assert "frame-ancestors 'self'" in html.headers["Content-Security-Policy"]


def test_an_agent_can_retry_a_failed_message_and_a_viewer_cannot(client, session, staff_login, app):
    message = OutboxMessage(
        recipient="x@example.com",
        template="fresh_link",
        language="nl",
        subject="S",
        body_text="T",
        body_html="<p>T</p>",
        state="failed",
        attempts=6,
        last_error="SMTP 550: mailbox unavailable",
    )
    session.add(message)
    session.commit()

    staff_login(client, "viewer")
    assert "SMTP 550" in client.get(f"/staff/messages/{message.id}").get_data(as_text=True)
    token = csrf_token(client, f"/staff/messages/{message.id}")
    assert client.post(f"/staff/messages/{message.id}/retry", data={"csrf_token": token}).status_code == 403

    agent = app.test_client()
    staff_login(agent, "agent")
    token = csrf_token(agent, f"/staff/messages/{message.id}")
    agent.post(f"/staff/messages/{message.id}/retry", data={"csrf_token": token})
    assert session.get(OutboxMessage, message.id).state == "held", "retried at once; without SMTP it is kept again"


def test_a_viewer_never_sees_a_personal_link_that_still_works(app, client, create_customer, session, staff_login):
    create_customer(email="Emily@Example.com", language="en", name="Emily Carter")
    debtor = app.test_client()
    debtor.post("/link", data={"email": "emily@example.com", "csrf_token": csrf_token(debtor, "/link")})
    message = session.scalars(select(OutboxMessage)).one()
    assert "/p/" in message.body_text, "a different-case address on file still gets its fresh link"

    staff_login(client, "viewer")
    assert "/p/" not in client.get(f"/staff/messages/{message.id}").get_data(as_text=True)
    assert "/p/" not in client.get(f"/staff/messages/{message.id}/html").get_data(as_text=True)

    agent = app.test_client()
    staff_login(agent, "agent")
    assert "/p/" in agent.get(f"/staff/messages/{message.id}/html").get_data(as_text=True), "agents may make links"


def test_staff_see_which_files_went_with_a_message(app, client, create_customer, session, staff_login):
    from portal.audit.services import SYSTEM
    from portal.notifications.services import Attachment, queue_email

    customer = create_customer(email="marco@example.com", language="en")
    with app.app_context():  # rendering the message needs the app
        message = queue_email(
            session,
            to="marco@example.com",
            template="fresh_link",
            language="en",
            context={"customer_name": "Marco", "link_url": "http://127.0.0.1/p/x", "expires_on": None},
            actor=SYSTEM,
            customer_id=customer.id,
            attachments=[Attachment("payment-plan-R000009.pdf", "application/pdf", b"%PDF-1.7")],
        )
        session.commit()
    staff_login(client, "viewer", language="en")
    detail = client.get(f"/staff/messages/{message.id}").get_data(as_text=True)
    assert "Attachments" in detail and "payment-plan-R000009.pdf" in detail
