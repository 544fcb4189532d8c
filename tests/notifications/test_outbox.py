"""The outbox: a message exists exactly when its change committed, and is delivered once."""

from __future__ import annotations

import re

import pytest
from jinja2 import UndefinedError
from sqlalchemy import select

from portal.notifications.delivery import REDACTED
from portal.notifications.models import OutboxMessage
from portal.notifications.render import render_message
from portal.notifications.services import queue_email
from tests.fixtures.factories import TEST_ACTOR, csrf_token


def _ask_for_fresh_link(client, email: str, language: str = "nl"):
    token = csrf_token(client, "/link")
    return client.post("/link", data={"email": email, "csrf_token": token}, headers={"Accept-Language": language})


def test_without_a_mail_server_the_fresh_link_email_is_kept_for_staff_in_the_customers_language(
    client, create_customer, session
):
    customer = create_customer(email="priya@example.com", language="en", name="Priya Sharma")

    assert _ask_for_fresh_link(client, "priya@example.com", language="nl").status_code == 302

    message = session.scalars(select(OutboxMessage).where(OutboxMessage.customer_id == customer.id)).one()
    assert message.state == "held"
    assert message.language == "en", "the customer's language, not the visitor's browser"
    assert message.subject == "Your new link to your payment page"
    assert "Hello Priya Sharma," in message.body_text
    link = re.search(r"http://localhost/p/[A-Za-z0-9_-]{43}", message.body_text).group(0)
    assert link in message.body_html
    assert client.get(link.removeprefix("http://localhost")).headers["Location"] == "/overview"


def test_with_a_mail_server_the_email_arrives_and_the_stored_copy_loses_the_link(
    client, create_customer, session, smtp_configured
):
    create_customer(email="sanne@example.nl", language="nl", name="Sanne de Vries")

    _ask_for_fresh_link(client, "sanne@example.nl")

    assert len(smtp_configured.received) == 1
    email = smtp_configured.received[0]
    assert email["To"] == "sanne@example.nl"
    assert email["Subject"] == "Je nieuwe link naar je betaalpagina"
    text = email.get_body(("plain",)).get_content()
    assert "Hallo Sanne de Vries," in text and "/p/" in text
    assert email.get_body(("html",)).get_content().count("/p/") >= 1
    stored = session.scalars(select(OutboxMessage)).one()
    assert stored.state == "sent" and stored.sent_at is not None
    assert "/p/" not in stored.body_text and REDACTED in stored.body_text


def test_an_unknown_address_sends_nothing(client, smtp_configured, session):
    _ask_for_fresh_link(client, "nobody@example.nl")
    assert smtp_configured.received == []
    assert session.scalars(select(OutboxMessage)).all() == []


def test_a_rolled_back_change_leaves_no_message(app, session, smtp_configured):
    with app.app_context():
        queue_email(
            session,
            to="x@example.com",
            template="fresh_link",
            language="nl",
            actor=TEST_ACTOR,
            context={"customer_name": "X", "link_url": "http://localhost/p/x", "expires_on": _aware_now()},
        )
        session.rollback()
    assert session.scalars(select(OutboxMessage)).all() == []
    assert smtp_configured.received == []


def test_a_template_with_a_missing_variable_fails_loudly(app):
    with app.app_context(), pytest.raises(UndefinedError):
        render_message("fresh_link", "nl", {"customer_name": "X"})


def _aware_now():
    from portal.clock import now as utcnow

    return utcnow()
