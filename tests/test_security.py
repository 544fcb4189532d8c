"""Security headers, cookies, CSRF and error pages that never leak internals."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet


@pytest.mark.parametrize("path", ["/", "/link", "/overview", "/nope", "/healthz", "/static/css/portal.css"])
def test_security_headers_on_every_response(client, path):
    with client.get(path) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_debtor_pages_are_never_cached(client, create_customer, login):
    login(client, create_customer())
    assert client.get("/overview").headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_not_readable_by_scripts(client, create_customer, issue_link):
    response = client.get(f"/p/{issue_link(create_customer()).token}")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_session_cookie_is_secure_when_served_over_https(make_app, app):
    https_app = make_app(BASE_URL="https://pay.example.com", TOTP_KEYS=Fernet.generate_key().decode())
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
