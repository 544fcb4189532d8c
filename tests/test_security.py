"""Security headers, cookies, CSRF and error pages that never leak internals."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from werkzeug.exceptions import TooManyRequests

from tests.fixtures.factories import STAFF_PASSWORD, csrf_token


@pytest.mark.parametrize("path", ["/", "/link", "/overview", "/nope", "/healthz", "/static/css/portal.css"])
def test_security_headers_on_every_response(client, path):
    with client.get(path) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain http: a browser would ignore it, and it misleads
    for name in ("Content-Security-Policy", "Referrer-Policy", "X-Frame-Options", "Cache-Control"):
        assert len(headers.getlist(name)) <= 1, name


def test_over_https_browsers_are_told_to_keep_to_https(client):
    with client.get("/healthz", base_url="https://localhost") as response:
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_a_view_that_sets_its_own_cache_control_keeps_it(client):
    with client.get("/static/css/portal.css") as response:
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_debtor_pages_are_never_cached(client, create_customer, login):
    login(client, create_customer())
    assert client.get("/overview").headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_not_readable_by_scripts(client, create_customer, issue_link):
    response = client.get(f"/p/{issue_link(create_customer()).token}")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_a_new_secret_key_ends_the_sessions_signed_with_the_old_one_unless_kept_as_a_fallback(
    app, client, create_customer, login
):
    login(client, create_customer(language="en"))
    assert client.get("/overview").status_code == 200
    signed_with_the_old_key = client.get_cookie("portal_session").value
    old = app.secret_key
    try:
        app.secret_key = "a-new-key-after-a-leak-0123456789abcdef"
        assert client.get("/overview").headers["Location"] == "/link"
        client.set_cookie("portal_session", signed_with_the_old_key)
        app.config["SECRET_KEY_FALLBACKS"] = [old]
        assert client.get("/overview").status_code == 200
    finally:
        app.secret_key = old
        app.config["SECRET_KEY_FALLBACKS"] = []


def test_session_cookie_is_secure_when_served_over_https(make_app, app):
    https_app = make_app(
        BASE_URL="https://pay.example.com", ALLOW_SQLITE=True, TOTP_KEYS=Fernet.generate_key().decode()
    )
    assert https_app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_a_form_posted_without_its_csrf_token_is_refused_kindly(client):
    response = client.post("/link", data={"email": "someone@example.com"}, headers={"Accept-Language": "nl"})
    assert response.status_code == 400
    assert "Dit formulier is verlopen" in response.get_data(as_text=True)


def test_an_unexpected_error_shows_a_page_in_the_visitors_language_without_internals(make_app):
    failing_app = make_app()

    @failing_app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internal detail: table customers")

    response = failing_app.test_client().get("/boom", headers={"Accept-Language": "nl"})
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Er ging bij ons iets mis" in page
    assert "secret internal detail" not in page and "Traceback" not in page


def test_not_found_page_in_english(client):
    response = client.get("/does-not-exist", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_language_switch_only_redirects_within_the_site(client):
    response = client.get("/language/en?next=https://evil.example/steal")
    assert response.headers["Location"] == "/"
    response = client.get("/language/en?next=//evil.example")
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "target",
    [
        "/staff/%0d%0aSet-Cookie:x=1",
        "%0a/",
        "//evil.example",
        "/%09/evil.example",
        "/\\evil",
        "https://evil.example",
        "/staff/%00",
    ],
)
def test_after_a_staff_log_in_a_crafted_next_leads_to_the_dashboard(client, create_staff, target):
    staff = create_staff()
    login = client.post(
        f"/staff/login?next={target}",
        data={"email": staff.email, "password": STAFF_PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert login.status_code == 302
    code_page = login.headers["Location"]

    response = client.post(
        code_page,
        data={"code": staff.authenticator.now(), "csrf_token": csrf_token(client, code_page)},
    )

    assert response.status_code == 302, "the staff member is logged in and sent on, not shown an error"
    assert response.headers["Location"] == "/staff/"
    assert "x=1" not in response.headers.get("Set-Cookie", "")


def test_after_a_staff_log_in_a_plain_next_path_is_followed(client, create_staff):
    staff = create_staff()
    login = client.post(
        "/staff/login?next=/staff/account",
        data={"email": staff.email, "password": STAFF_PASSWORD, "csrf_token": csrf_token(client)},
    )
    code_page = login.headers["Location"]
    response = client.post(
        code_page,
        data={"code": staff.authenticator.now(), "csrf_token": csrf_token(client, code_page)},
    )
    assert response.headers["Location"] == "/staff/account"


def test_a_429_of_our_own_says_when_to_try_again_in_seconds_and_words(make_app):
    limited_app = make_app()

    @limited_app.get("/busy")
    def busy() -> str:
        raise TooManyRequests(retry_after=150)

    @limited_app.get("/busy-json")
    def busy_json() -> tuple[dict[str, str], int]:
        return {"error": "slow down"}, 429

    response = limited_app.test_client().get("/busy", headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "150"
    assert "You can try again in 3 minutes." in response.get_data(as_text=True)
    assert limited_app.test_client().get("/busy-json").headers["Retry-After"].isdigit()
