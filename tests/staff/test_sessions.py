"""Staff sessions end on the server: log-out, a new log-in, a password change and closing the account."""

from __future__ import annotations

import time

from flask.testing import FlaskClient

from portal.staff import admin_services
from portal.staff.models import StaffUser
from tests.fixtures.factories import STAFF_PASSWORD, TEST_ACTOR, csrf_token


def _copy_of_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("portal_staff", path="/staff")
    assert cookie is not None, "logged in, so there is a staff cookie"
    return cookie.value


def _browser_with(client: FlaskClient, cookie: str) -> FlaskClient:
    """Another browser that presents a copied staff cookie, as someone who took it would."""
    other = client.application.test_client()
    other.set_cookie("portal_staff", cookie, path="/staff")
    return other


def _second_device(client: FlaskClient, staff: StaffUser) -> FlaskClient:
    device = client.application.test_client()
    device.post(
        "/staff/login", data={"email": staff.email, "password": STAFF_PASSWORD, "csrf_token": csrf_token(device)}
    )
    device.post(
        "/staff/login/code",
        # The next 30-second code: the one the first device used is never accepted twice.
        data={"code": staff.authenticator.at(time.time() + 30), "csrf_token": csrf_token(device, "/staff/login/code")},
    )
    assert device.get("/staff/dashboard/").status_code == 200
    return device


def test_a_copied_cookie_opens_nothing_after_log_out(client, staff_login):
    staff_login(client, "agent")
    copied = _copy_of_cookie(client)
    assert _browser_with(client, copied).get("/staff/dashboard/").status_code == 200, "the copy works while logged in"

    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/account")})

    response = _browser_with(client, copied).get("/staff/dashboard/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login"), "log-out ended the session on the server"


def test_logging_in_again_in_the_same_browser_ends_the_earlier_session(client, staff_login):
    staff = staff_login(client, "agent")
    copied = _copy_of_cookie(client)
    client.post(
        "/staff/login", data={"email": staff.email, "password": STAFF_PASSWORD, "csrf_token": csrf_token(client)}
    )

    assert _browser_with(client, copied).get("/staff/dashboard/").headers["Location"].startswith("/staff/login")


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(client, staff_login):
    staff = staff_login(client, "agent")
    other_device = _second_device(client, staff)
    copied_other = _copy_of_cookie(other_device)

    response = client.post(
        "/staff/account/password",
        data={
            "current": STAFF_PASSWORD,
            "new": "a brand new passphrase",
            "repeat": "a brand new passphrase",
            "csrf_token": csrf_token(client, "/staff/account/password"),
        },
    )
    assert response.status_code == 302

    assert client.get("/staff/dashboard/").status_code == 200, "the session that changed the password goes on"
    assert other_device.get("/staff/dashboard/").headers["Location"].startswith("/staff/login")
    assert _browser_with(client, copied_other).get("/staff/dashboard/").headers["Location"].startswith("/staff/login")


def test_closing_an_account_ends_its_sessions_for_good(client, staff_login, create_staff, session):
    staff = staff_login(client, "agent")
    copied = _copy_of_cookie(client)
    admin = create_staff("admin")

    admin_services.deactivate(session, session.get(StaffUser, staff.id), by=admin, actor=TEST_ACTOR)
    session.commit()
    assert client.get("/staff/dashboard/").headers["Location"].startswith("/staff/login")

    # Opening the account again does not bring the old sessions back: the person logs in anew.
    admin_services.reactivate(session, session.get(StaffUser, staff.id), actor=TEST_ACTOR)
    session.commit()
    assert _browser_with(client, copied).get("/staff/dashboard/").headers["Location"].startswith("/staff/login")
