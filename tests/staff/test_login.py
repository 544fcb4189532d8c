"""Staff log-in: password, second factor, throttling, idle time-out, log out everywhere, separate sessions."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.staff.models import StaffUser
from tests.fixtures.factories import STAFF_PASSWORD, csrf_token


def _post_login(client, email, password):
    return client.post(
        "/staff/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
        headers={"Accept-Language": "en"},
    )


def test_staff_pages_ask_for_a_log_in_first(client):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")


def test_password_then_totp_code_logs_in(client, staff_login):
    staff_login(client, "agent")
    response = client.get("/staff/account", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "Je account" in response.get_data(as_text=True), "the staff member's own language beats the browser"


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(client, create_staff):
    staff = create_staff()
    wrong_password = _post_login(client, staff.email, "not the password at all")
    unknown = _post_login(client, "nobody@example.com", "not the password at all")
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731 - CSRF tokens and the typed e-mail
    assert wrong_password.status_code == unknown.status_code == 200
    assert "The e-mail address or password is not right." in wrong_password.get_data(as_text=True)
    assert strip(wrong_password.get_data(as_text=True)) == strip(unknown.get_data(as_text=True))


def test_repeated_failures_make_you_wait_longer_and_then_lock(client, create_staff, session, frozen_clock):
    # The clock stands still, so a slow password hash cannot outlast the delay it is checked against.
    staff = create_staff()
    for _ in range(3):
        assert "not right" in _post_login(client, staff.email, "wrong password 1234").get_data(as_text=True)
    _post_login(client, staff.email, "wrong password 1234")  # fourth failure: a delay starts
    page = _post_login(client, staff.email, STAFF_PASSWORD).get_data(as_text=True)
    assert "Too many attempts. Please wait" in page, "even the right password waits until the delay is over"

    # The same holds for an address nobody has: the throttle does not reveal which addresses exist.
    for _ in range(4):
        _post_login(client, "ghost@example.com", "wrong password 1234")
    assert "Too many attempts" in _post_login(client, "ghost@example.com", "x" * 12).get_data(as_text=True)
    failures = session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.login_failed")).all()
    assert len(failures) >= 8


def test_a_wrong_second_factor_code_does_not_log_in(client, create_staff):
    staff = create_staff()
    client.post(
        "/staff/login", data={"email": staff.email, "password": STAFF_PASSWORD, "csrf_token": csrf_token(client)}
    )
    token = csrf_token(client, "/staff/login/code")
    response = client.post("/staff/login/code", data={"code": "000000", "csrf_token": token})
    assert response.status_code == 200
    assert client.get("/staff/account").status_code == 302


def test_a_recovery_code_works_once(client, create_staff, session):
    staff = create_staff(with_totp=False)
    client.post(
        "/staff/login", data={"email": staff.email, "password": STAFF_PASSWORD, "csrf_token": csrf_token(client)}
    )
    enrol_page = client.get("/staff/account/two-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', enrol_page).group(1)
    token = csrf_token(client, "/staff/account/two-factor")
    codes_page = client.post(
        "/staff/account/two-factor", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token}
    ).get_data(as_text=True)
    codes = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", codes_page)
    assert len(codes) == 10
    assert session.get(StaffUser, staff.id).has_second_factor

    for attempt in range(2):
        client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/account")})
        client.post(
            "/staff/login", data={"email": staff.email, "password": STAFF_PASSWORD, "csrf_token": csrf_token(client)}
        )
        response = client.post(
            "/staff/login/code", data={"code": codes[0], "csrf_token": csrf_token(client, "/staff/login/code")}
        )
        assert (response.status_code == 302) is (attempt == 0), "a recovery code logs in exactly once"


def test_before_the_second_factor_is_set_up_only_enrolment_is_open(client, create_staff):
    staff = create_staff("admin", with_totp=False)
    response = client.post(
        "/staff/login", data={"email": staff.email, "password": STAFF_PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.headers["Location"] == "/staff/account/two-factor"
    assert client.get("/staff/account").headers["Location"] == "/staff/account/two-factor"
    page = client.get("/staff/account/two-factor").get_data(as_text=True)
    assert '<svg role="img"' in page


def test_idle_sessions_end(client, staff_login, frozen_clock):
    staff_login(client)
    assert client.get("/staff/account").status_code == 200
    frozen_clock.shift(timedelta(minutes=31))
    response = client.get("/staff/account")
    assert response.headers["Location"].startswith("/staff/login")


def test_log_out_everywhere_ends_other_sessions(app, client, staff_login):
    staff = staff_login(client)
    other_device = app.test_client()
    other_device.post(
        "/staff/login", data={"email": staff.email, "password": STAFF_PASSWORD, "csrf_token": csrf_token(other_device)}
    )
    other_device.post(
        "/staff/login/code",
        # The next 30-second code: the one the first device used is never accepted twice.
        data={
            "code": staff.authenticator.at(time.time() + 30),
            "csrf_token": csrf_token(other_device, "/staff/login/code"),
        },
    )
    assert other_device.get("/staff/account").status_code == 200

    client.post("/staff/account/logout-everywhere", data={"csrf_token": csrf_token(client, "/staff/account")})

    assert other_device.get("/staff/account").status_code == 302
    assert client.get("/staff/account").status_code == 302


def test_debtor_and_staff_sessions_are_separate(client, staff_login, create_customer, login):
    staff_login(client, "admin")
    response = client.get("/overview")
    assert response.headers["Location"] == "/link", "a staff log-in is no debtor session"

    debtor_only = client.application.test_client()
    login(debtor_only, create_customer())
    assert debtor_only.get("/staff/account").headers["Location"].startswith("/staff/login")
    cookies = {cookie.key: cookie for cookie in client._cookies.values()}  # noqa: SLF001
    assert cookies["portal_staff"].path == "/staff"


def test_a_temporary_password_must_be_replaced_before_anything_else(client, staff_login, session):
    staff = staff_login(client, "agent", password_must_change=True)
    assert client.get("/staff/account/two-factor").headers["Location"] == "/staff/account/password"
    token = csrf_token(client, "/staff/account/password")
    page = client.post(
        "/staff/account/password",
        data={
            "current": "wrong wrong wrong",
            "new": "a brand new passphrase",
            "repeat": "a brand new passphrase",
            "csrf_token": token,
        },
        headers={"Accept-Language": "en"},
    ).get_data(as_text=True)
    assert "Dit is niet je huidige wachtwoord." in page
    response = client.post(
        "/staff/account/password",
        data={
            "current": STAFF_PASSWORD,
            "new": "a brand new passphrase",
            "repeat": "a brand new passphrase",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert not session.get(StaffUser, staff.id).password_must_change
    assert client.get("/staff/account").status_code == 200


def test_a_code_is_accepted_once_and_wrong_codes_end_the_attempt(app, client, create_staff):
    staff = create_staff()
    code = staff.authenticator.now()
    _post_login(client, staff.email, STAFF_PASSWORD)
    client.post("/staff/login/code", data={"code": code, "csrf_token": csrf_token(client, "/staff/login/code")})
    assert client.get("/staff/account").status_code == 200

    replay = app.test_client()
    _post_login(replay, staff.email, STAFF_PASSWORD)
    page = replay.post(
        "/staff/login/code", data={"code": code, "csrf_token": csrf_token(replay, "/staff/login/code")}
    ).get_data(as_text=True)
    assert "Deze code klopt niet" in page or "This code is not right" in page, "a used code is refused"

    guesser = app.test_client()
    _post_login(guesser, staff.email, STAFF_PASSWORD)
    token = csrf_token(guesser, "/staff/login/code")
    for _ in range(5):
        guesser.post("/staff/login/code", data={"code": "123456", "csrf_token": token})
    assert guesser.get("/staff/login/code").headers["Location"] == "/staff/login", "after five wrong codes: start again"


def test_a_session_from_before_the_second_factor_was_set_up_cannot_skip_it(app, client, create_staff):
    staff = create_staff("admin", with_totp=False)
    early = app.test_client()
    _post_login(early, staff.email, STAFF_PASSWORD)  # parked on the enrolment page
    _post_login(client, staff.email, STAFF_PASSWORD)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', client.get("/staff/account/two-factor").get_data(as_text=True))
    client.post(
        "/staff/account/two-factor",
        data={"code": pyotp.TOTP(secret.group(1)).now(), "csrf_token": csrf_token(client, "/staff/account/two-factor")},
    )
    assert client.get("/staff/account").status_code == 200
    assert early.get("/staff/account").headers["Location"].startswith("/staff/login")
