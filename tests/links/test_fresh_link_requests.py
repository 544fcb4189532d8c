"""Asking for a fresh link: at most three e-mails a day per customer, one answer for every address, and
only the newest fresh link works."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.links.models import PortalLink
from portal.notifications.models import OutboxMessage
from tests.fixtures.factories import csrf_token

LINK = re.compile(r"http://localhost(/p/[A-Za-z0-9_-]{43})")


def _ask(client, email: str, address: str = "192.0.2.10", **kwargs):
    return client.post(
        "/link",
        data={"email": email, "csrf_token": csrf_token(client, "/link")},
        environ_base={"REMOTE_ADDR": address},
        **kwargs,
    )


def _emails(session, customer) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.customer_id == customer.id).order_by(OutboxMessage.id)
        )
    )


def _links(session, customer) -> list[PortalLink]:
    return list(session.scalars(select(PortalLink).where(PortalLink.customer_id == customer.id)))


def test_one_customer_gets_at_most_three_fresh_links_a_day_from_any_address(
    client, create_customer, session, frozen_clock
):
    customer = create_customer(email="sanne@example.nl")

    for n in range(6):
        assert _ask(client, "sanne@example.nl", address=f"192.0.2.{n}").status_code == 302
        frozen_clock.shift(timedelta(hours=1))

    assert len(_emails(session, customer)) == 3, "the fourth, fifth and sixth request send nothing"
    assert len(_links(session, customer)) == 3, "and make no link"

    # A day after the first e-mail, one more may go out.
    frozen_clock.shift(timedelta(hours=18, minutes=1))
    _ask(client, "Sanne@Example.nl")
    assert len(_emails(session, customer)) == 4
    _ask(client, "sanne@example.nl")
    assert len(_emails(session, customer)) == 4, "the second and third e-mail are still within the day"


def test_known_unknown_and_limited_addresses_get_the_same_answer(client, create_customer, session):
    create_customer(email="sanne@example.nl")
    limited = create_customer(email="piet@example.nl")
    for _ in range(3):
        _ask(client, "piet@example.nl")
    sent_before = len(_emails(session, limited))

    answers = []
    for email in ("sanne@example.nl", "nobody@example.nl", "piet@example.nl"):
        response = _ask(client, email)
        page = client.get(response.headers["Location"], headers={"Accept-Language": "en"})
        headers = {name: value for name, value in response.headers.items() if name != "Set-Cookie"}
        answers.append((response.status_code, headers, response.get_data(), page.status_code, page.get_data()))

    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 302 and b"Check your e-mail" in answers[0][4]
    assert len(_emails(session, limited)) == sent_before == 3, "no e-mail for the customer past the limit"
    assert len(_links(session, limited)) == 3, "and no link"


def test_the_answer_leaves_before_the_address_is_even_looked_up(client, create_customer, session):
    """So the time the answer takes cannot tell a known address from an unknown or limited one."""
    customer = create_customer(email="sanne@example.nl")

    response = _ask(client, "sanne@example.nl", buffered=False)

    assert response.status_code == 302
    assert _links(session, customer) == [] and _emails(session, customer) == [], "nothing done yet"
    response.close()  # the server has sent the answer
    assert len(_links(session, customer)) == 1 and len(_emails(session, customer)) == 1


def test_a_new_fresh_link_stops_the_earlier_ones_but_not_the_reminders_link(
    app, client, create_customer, issue_link, session
):
    customer = create_customer(email="sanne@example.nl", language="en")
    reminder = issue_link(customer)  # the link from the reminder e-mail the customer came from

    _ask(client, "sanne@example.nl")
    _ask(client, "sanne@example.nl")

    emails = _emails(session, customer)
    assert "A link you asked for before this one no longer works." not in emails[0].body_text
    assert "A link you asked for before this one no longer works." in emails[1].body_text
    assert "A link you asked for before this one no longer works." in emails[1].body_html
    first, second = (LINK.search(message.body_text).group(1) for message in emails)
    assert app.test_client().get(first).headers["Location"] == "/link", "the earlier fresh link no longer works"
    assert app.test_client().get(second).headers["Location"] == "/overview", "the newest one does"
    assert app.test_client().get(f"/p/{reminder.token}").headers["Location"] == "/overview"


def test_an_address_pasted_with_spaces_around_it_still_gets_its_link(client, create_customer, session):
    customer = create_customer(email="esra@example.nl")

    answer = _ask(client, "  esra@example.nl \n")

    assert answer.status_code == 302, "not 'This does not look like an e-mail address'"
    [sent] = _emails(session, customer)
    assert sent.recipient == "esra@example.nl"
