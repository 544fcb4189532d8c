"""Opening a personal link, and everything that must happen when a link is not good."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.clock import now as utcnow
from portal.links.models import PortalLink
from portal.links.services import revoke_link
from tests.fixtures.factories import TEST_ACTOR


def _problem_page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/link"
    page = client.get("/link")
    assert page.status_code == 200
    # The CSRF token is signed with a timestamp, so it differs from second to second.
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", page.get_data(as_text=True))


def test_opening_a_link_binds_the_customer_and_drops_the_token_from_the_address(
    client, create_customer, issue_link, session
):
    customer = create_customer(name="Sanne de Vries")
    issued = issue_link(customer)

    response = client.get(f"/p/{issued.token}")

    assert response.status_code == 302
    assert response.headers["Location"] == "/overview"
    assert issued.token not in response.headers["Location"]
    overview = client.get("/overview")
    assert overview.status_code == 200
    assert "Sanne de Vries" in overview.get_data(as_text=True)
    assert issued.token not in overview.get_data(as_text=True)
    assert session.get(PortalLink, issued.link.id).last_used_at is not None


@pytest.mark.parametrize(
    ("target", "lands_on"),
    [
        ("/plan/3", "/plan/3"),  # a message about a payment plan opens the plan's page
        ("//evil.example/plan", "/overview"),
        ("https://evil.example/", "/overview"),
        ("/\\evil.example", "/overview"),
        ("/overview\r\nSet-Cookie: x=1", "/overview"),
    ],
)
def test_a_link_from_a_message_may_open_one_of_our_pages_never_another_site(
    client, create_customer, issue_link, target, lands_on
):
    issued = issue_link(create_customer())
    response = client.get(f"/p/{issued.token}", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == lands_on


def test_the_token_is_long_random_and_only_its_hash_is_stored(create_customer, issue_link, session):
    customer = create_customer()
    first, second = issue_link(customer), issue_link(customer)

    assert len(first.token) >= 43  # 32 random bytes, URL-safe base64: 256 bits
    assert first.token != second.token
    stored = session.scalars(select(PortalLink.token_hash)).all()
    assert first.token not in stored and second.token not in stored
    assert all(len(value) == 64 for value in stored)


def test_links_expire_after_the_configured_days_by_default_ninety(client, create_customer, issue_link):
    link = issue_link(create_customer()).link
    assert link.expires_at - link.created_at == timedelta(days=90)


def test_unknown_malformed_expired_and_revoked_links_get_the_same_friendly_page(
    client, create_customer, issue_link, session
):
    customer = create_customer(email="known@example.com")
    expired = issue_link(customer)
    expired.link.expires_at = utcnow() - timedelta(seconds=1)
    revoked = issue_link(customer)
    revoke_link(session, revoked.link, actor=TEST_ACTOR)
    session.commit()
    valid = issue_link(customer)
    tampered = valid.token[:-1] + ("A" if valid.token[-1] != "A" else "B")

    pages = {
        name: _problem_page(client, f"/p/{token}")
        for name, token in {
            "unknown": "x" * 43,
            "malformed": "not-a-token",
            "tampered": tampered,
            "expired": expired.token,
            "revoked": revoked.token,
            "very long": "a" * 5000,
        }.items()
    }

    assert len(set(pages.values())) == 1, "every bad link must look exactly the same"
    page = pages["unknown"]
    assert 'name="email"' in page
    assert "known@example.com" not in page
    assert client.get("/overview").headers["Location"] == "/link"


def test_the_problem_page_speaks_the_browsers_language(client):
    response = client.get("/link", headers={"Accept-Language": "nl-NL,nl;q=0.9"})
    assert "Deze link werkt niet (meer)" in response.get_data(as_text=True)
    response = client.get("/link", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "This link does not work (anymore)" in response.get_data(as_text=True)


def test_revoking_a_link_ends_the_session_it_opened(client, create_customer, issue_link, session):
    customer = create_customer()
    issued = issue_link(customer)
    client.get(f"/p/{issued.token}")
    assert client.get("/overview").status_code == 200

    revoke_link(session, session.get(PortalLink, issued.link.id), actor=TEST_ACTOR)
    session.commit()

    assert client.get("/overview").headers["Location"] == "/link"


def test_opening_and_rejecting_links_is_recorded_in_the_audit_trail(client, create_customer, issue_link, session):
    customer = create_customer()
    client.get(f"/p/{issue_link(customer).token}")
    client.get("/p/" + "y" * 43)

    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "link.opened" in actions
    assert "link.rejected" in actions
    opened = session.scalars(select(AuditEvent).where(AuditEvent.action == "link.opened")).one()
    assert opened.customer_id == customer.id
    assert opened.ip_address == "127.0.0.1"


def test_asking_for_a_fresh_link_answers_the_same_for_known_and_unknown_addresses(client, create_customer, session):
    customer = create_customer(email="sanne@example.nl")
    before = session.scalars(select(PortalLink).where(PortalLink.customer_id == customer.id)).all()

    answers = []
    for email in ("sanne@example.nl", "nobody@example.nl"):
        form = client.get("/link").get_data(as_text=True)
        token = form.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/link", data={"email": email, "csrf_token": token})
        assert response.status_code == 302
        answers.append(client.get(response.headers["Location"]).get_data(as_text=True))

    assert answers[0] == answers[1]
    after = session.scalars(select(PortalLink).where(PortalLink.customer_id == customer.id)).all()
    assert len(after) == len(before) + 1


def test_a_mistyped_address_gets_a_clear_message_next_to_the_field(client):
    form = client.get("/link", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    token = form.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/link", data={"email": "sanne@", "csrf_token": token}, headers={"Accept-Language": "nl"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Dit lijkt geen e-mailadres" in page
    assert 'aria-invalid="true"' in page
