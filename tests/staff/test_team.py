"""Administrators manage staff accounts: create, change role, deactivate, reset password and second factor."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.staff import admin_services
from portal.staff.errors import StaffError
from portal.staff.models import StaffUser
from tests.fixtures.factories import STAFF_PASSWORD, TEST_ACTOR, csrf_token

EN = {"Accept-Language": "en"}


def _log_in_with_password(client, email, password):
    return client.post(
        "/staff/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}, headers=EN
    )


def _post(client, path, **data):
    """Submit a form on ``path`` with the session's CSRF token, as the browser would, and show the next page."""
    token = csrf_token(client, "/staff/team/new")
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=True)


def _audit(session, action, staff):
    return session.scalars(
        select(AuditEvent).where(AuditEvent.action == action, AuditEvent.subject_id == str(staff.id))
    ).all()


@pytest.fixture()
def admin_client(app, session, staff_login):
    client = app.test_client()
    admin = staff_login(client, "admin", language="en")
    return client, admin


def test_the_team_page_lists_every_account(admin_client, create_staff):
    client, admin = admin_client
    gone = create_staff("viewer", name="Former Colleague", active=False)
    page = client.get("/staff/team/").get_data(as_text=True)
    assert admin.name in page and gone.name in page and gone.email in page
    assert "Administrator" in page and "Viewer" in page
    assert "Deactivated" in page and "Never" in page


def test_an_admin_creates_an_account_and_the_person_logs_in_with_the_shown_password(app, admin_client, session):
    client, admin = admin_client
    page = _post(
        client, "/staff/team/new", email="New.Person@Example.com", name="New Person", role="agent", language="en"
    ).get_data(as_text=True)
    password = re.search(r'id="temporary-password">([^<]+)<', page).group(1)
    assert len(password) >= 12
    assert "It is shown only now." in page

    newcomer = app.test_client()
    response = _log_in_with_password(newcomer, "new.person@example.com", password)
    assert response.headers["Location"] == "/staff/account/two-factor", "the second factor is set up first"

    staff = session.scalars(select(StaffUser).where(StaffUser.email == "new.person@example.com")).one()
    assert (staff.role, staff.language, staff.active) == ("agent", "en", True)
    [created] = _audit(session, "staff.created", staff)
    assert created.actor_id == admin.email
    assert password not in str(created.details), "the audit trail never holds a password"


def test_an_address_can_have_only_one_account(admin_client, create_staff):
    client, _ = admin_client
    existing = create_staff()
    page = _post(client, "/staff/team/new", email=existing.email, name="Twin", role="viewer", language="nl")
    assert "There is already a staff account with this e-mail address." in page.get_data(as_text=True)
    assert 'id="temporary-password"' not in page.get_data(as_text=True)


def test_changing_a_role_takes_effect_and_is_audited(app, admin_client, create_staff, session):
    client, admin = admin_client
    agent = create_staff("agent")
    page = _post(client, f"/staff/team/{agent.id}/role", role="supervisor").get_data(as_text=True)
    assert f"{agent.name} is now Supervisor." in page
    assert session.get(StaffUser, agent.id).role == "supervisor"
    [event] = _audit(session, "staff.role_changed", agent)
    assert event.details["from"] == "agent" and event.details["to"] == "supervisor"
    assert event.actor_id == admin.email


def test_deactivating_logs_the_person_out_at_once_and_they_cannot_log_in(app, admin_client, staff_login, session):
    client, admin = admin_client
    their_browser = app.test_client()
    agent = staff_login(their_browser, "agent")
    assert their_browser.get("/staff/account").status_code == 200

    confirm_page = client.get(f"/staff/team/{agent.id}/deactivate").get_data(as_text=True)
    assert "logged out at once" in confirm_page
    page = _post(client, f"/staff/team/{agent.id}/deactivate").get_data(as_text=True)
    assert "is deactivated and logged out everywhere" in page

    response = their_browser.get("/staff/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")
    refused = _log_in_with_password(app.test_client(), agent.email, STAFF_PASSWORD).get_data(as_text=True)
    assert "The e-mail address or password is not right." in refused
    assert _audit(session, "staff.deactivated", agent)[0].actor_id == admin.email

    page = _post(client, f"/staff/team/{agent.id}/reactivate").get_data(as_text=True)
    assert "is active again" in page
    assert _log_in_with_password(app.test_client(), agent.email, STAFF_PASSWORD).status_code == 302
    assert len(_audit(session, "staff.reactivated", agent)) == 1


def test_resetting_the_second_factor_forces_a_new_enrolment(app, admin_client, staff_login, session):
    client, _ = admin_client
    their_browser = app.test_client()
    agent = staff_login(their_browser, "agent")

    _post(client, f"/staff/team/{agent.id}/reset-second-factor")

    assert their_browser.get("/staff/account").headers["Location"].startswith("/staff/login")
    response = _log_in_with_password(their_browser, agent.email, STAFF_PASSWORD)
    assert response.headers["Location"] == "/staff/account/two-factor"
    assert their_browser.get("/staff/account").headers["Location"] == "/staff/account/two-factor"
    assert len(_audit(session, "staff.second_factor_reset", agent)) == 1


def test_resetting_a_password_shows_a_new_one_once_and_ends_their_sessions(app, admin_client, staff_login, session):
    client, _ = admin_client
    their_browser = app.test_client()
    agent = staff_login(their_browser, "agent")

    page = _post(client, f"/staff/team/{agent.id}/reset-password").get_data(as_text=True)
    password = re.search(r'id="temporary-password">([^<]+)<', page).group(1)

    assert their_browser.get("/staff/account").headers["Location"].startswith("/staff/login")
    assert "not right" in _log_in_with_password(app.test_client(), agent.email, STAFF_PASSWORD).get_data(as_text=True)
    response = _log_in_with_password(app.test_client(), agent.email, password)
    assert response.headers["Location"].startswith("/staff/login/code"), "the second factor still applies"
    assert len(_audit(session, "staff.password_reset", agent)) == 1


def test_the_last_admin_can_be_neither_demoted_nor_deactivated(admin_client, session):
    client, admin = admin_client
    message = "This is the last active administrator."
    assert message in _post(client, f"/staff/team/{admin.id}/role", role="viewer").get_data(as_text=True)
    assert message in _post(client, f"/staff/team/{admin.id}/deactivate").get_data(as_text=True)
    admin = session.get(StaffUser, admin.id)
    assert (admin.role, admin.active) == ("admin", True)

    # Not from the command line or any other caller either.
    with pytest.raises(StaffError, match="last_admin"):
        admin_services.change_role(session, admin, "agent", by=None, actor=TEST_ACTOR)
    with pytest.raises(StaffError, match="last_admin"):
        admin_services.deactivate(session, admin, by=None, actor=TEST_ACTOR)


def test_another_admin_may_be_demoted_but_not_your_own_account(admin_client, create_staff, session):
    client, admin = admin_client
    colleague = create_staff("admin")
    message = "You cannot demote or deactivate your own account."
    assert message in _post(client, f"/staff/team/{admin.id}/deactivate").get_data(as_text=True)
    assert message in _post(client, f"/staff/team/{admin.id}/role", role="agent").get_data(as_text=True)
    reset = _post(client, f"/staff/team/{admin.id}/reset-password").get_data(as_text=True)
    assert "You cannot reset your own password" in reset
    assert session.get(StaffUser, admin.id).active
    assert session.get(StaffUser, admin.id).role == "admin"

    _post(client, f"/staff/team/{colleague.id}/role", role="agent")
    assert session.get(StaffUser, colleague.id).role == "agent"


def test_own_account_page_offers_no_changes(admin_client):
    client, admin = admin_client
    page = client.get(f"/staff/team/{admin.id}").get_data(as_text=True)
    assert "This is your own account." in page
    assert "/deactivate" not in page


@pytest.mark.parametrize("role", ["viewer", "agent", "supervisor"])
def test_only_admins_reach_the_team_pages(app, client, staff_login, create_staff, role):
    staff_login(client, role)
    other = create_staff("agent")
    token = csrf_token(client, "/staff/account")
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("staff_admin.")]
    assert len(rules) >= 7
    for rule in rules:
        path = rule.build({"staff_id": other.id}, append_unknown=False)[1]
        if "GET" in rule.methods:
            assert client.get(path).status_code == 403, path
        if "POST" in rule.methods:
            response = client.post(path, data={"csrf_token": token, "role": "admin"})
            assert response.status_code == 403, path
    assert other.role == "agent"
