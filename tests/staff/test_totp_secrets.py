"""TOTP secrets are encrypted at rest with keys of their own, never in the cookie, and the keys rotate."""

from __future__ import annotations

import re

import pyotp
import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from portal.config import ConfigError
from portal.migrate import alembic_config, upgrade_to_head
from portal.staff.totp_keys import APP_KEY, keyring_from_config
from tests.conftest import TEST_SETTINGS
from tests.fixtures.factories import STAFF_PASSWORD, csrf_token


def _log_in_with_password(client, staff):
    return client.post(
        "/staff/login",
        data={"email": staff.email, "password": STAFF_PASSWORD, "csrf_token": csrf_token(client)},
        headers={"Accept-Language": "en"},
    )


def _enrolment_secret(client) -> str:
    page = client.get("/staff/account/two-factor").get_data(as_text=True)
    return re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)


def _staff_cookie(client) -> dict:
    """What the staff cookie holds, decoded as anyone holding the cookie could (it is signed, not encrypted)."""
    app = client.application
    cookie = client.get_cookie("portal_staff", path="/staff")
    with app.test_request_context("/staff/"):
        return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def _stored_row(session, staff_id) -> str:
    row = session.execute(text("SELECT * FROM staff_users WHERE id = :id"), {"id": staff_id}).mappings().one()
    return " ".join(str(value) for value in row.values())


def _keys(*keys: str):
    return keyring_from_config({**TEST_SETTINGS, "TOTP_KEYS": ",".join(keys)})


def test_the_secret_is_never_in_the_cookie_nor_in_plain_text_in_the_database(client, create_staff, session):
    staff = create_staff("agent", with_totp=False)
    _log_in_with_password(client, staff)
    secret = _enrolment_secret(client)

    assert secret not in repr(_staff_cookie(client)), "while setting up, the cookie does not carry the secret"
    session.expire_all()
    assert secret not in _stored_row(session, staff.id), "the pending secret is stored encrypted"
    assert _enrolment_secret(client) == secret, "reloading the page shows the same secret"

    codes_page = client.post(
        "/staff/account/two-factor",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(client, "/staff/account/two-factor")},
    ).get_data(as_text=True)
    assert "recovery" in codes_page.lower()
    assert client.get("/staff/account").status_code == 200

    assert secret not in repr(_staff_cookie(client))
    session.expire_all()
    assert secret not in _stored_row(session, staff.id), "the switched-on secret is stored encrypted"


def test_rotating_the_key_keeps_codes_working(app, client, create_staff, session, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setitem(app.extensions, APP_KEY, _keys(old))
    staff = create_staff("agent")

    # A restart with the new key in front, then the rotation, then a restart without the old key.
    monkeypatch.setitem(app.extensions, APP_KEY, _keys(new, old))
    result = app.test_cli_runner().invoke(args=["staff", "rotate-totp-key"])
    assert result.exit_code == 0, result.output
    assert "Encrypted" in result.output
    monkeypatch.setitem(app.extensions, APP_KEY, _keys(new))

    _log_in_with_password(client, staff)
    response = client.post(
        "/staff/login/code",
        data={"code": staff.authenticator.now(), "csrf_token": csrf_token(client, "/staff/login/code")},
    )
    assert response.status_code == 302
    assert client.get("/staff/account").status_code == 200


def test_a_wrong_key_gives_a_clear_answer_at_log_in_not_an_error_page(app, client, create_staff, monkeypatch):
    monkeypatch.setitem(app.extensions, APP_KEY, _keys(Fernet.generate_key().decode()))
    staff = create_staff("agent")
    monkeypatch.setitem(app.extensions, APP_KEY, _keys(Fernet.generate_key().decode()))

    _log_in_with_password(client, staff)
    response = client.post(
        "/staff/login/code",
        data={"code": staff.authenticator.now(), "csrf_token": csrf_token(client, "/staff/login/code")},
        headers={"Accept-Language": "en"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "cannot be checked because of a problem with the server" in page
    assert "Traceback" not in page
    assert client.get("/staff/account").status_code == 302


def test_with_a_wrong_key_a_recovery_code_still_logs_in(app, client, create_staff, monkeypatch):
    staff = create_staff("agent", with_totp=False)
    _log_in_with_password(client, staff)
    secret = _enrolment_secret(client)
    codes_page = client.post(
        "/staff/account/two-factor",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(client, "/staff/account/two-factor")},
    ).get_data(as_text=True)
    recovery_code = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", codes_page)[0]
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/account")})
    monkeypatch.setitem(app.extensions, APP_KEY, _keys(Fernet.generate_key().decode()))

    _log_in_with_password(client, staff)
    response = client.post(
        "/staff/login/code", data={"code": recovery_code, "csrf_token": csrf_token(client, "/staff/login/code")}
    )
    assert response.status_code == 302
    assert client.get("/staff/account").status_code == 200


def test_a_deployment_over_https_must_set_the_keys(make_app):
    with pytest.raises(ConfigError, match="PORTAL_TOTP_KEYS is required"):
        make_app(BASE_URL="https://pay.example.com", ALLOW_SQLITE=True)
    with pytest.raises(ConfigError, match="PORTAL_TOTP_KEYS must be a comma-separated list of Fernet keys"):
        make_app(TOTP_KEYS="not-a-key")


def test_the_upgrade_encrypts_the_secrets_already_stored_and_the_downgrade_decrypts_them(app, tmp_path):
    url = f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
    command.upgrade(alembic_config(url), "f8b52d3e0c21")
    secret = pyotp.random_base32()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO staff_users (email, name, role, password_hash, totp_secret, session_version, active,"
                " language, created_at, password_must_change)"
                " VALUES ('a@example.com', 'A', 'agent', 'x', :secret, 1, 1, 'nl', '2026-11-30 10:00:00', 0)"
            ),
            {"secret": secret},
        )

    with app.app_context():  # as `flask db upgrade` runs it: with the app's keys
        upgrade_to_head(url)

    with engine.connect() as connection:
        stored = connection.scalar(text("SELECT totp_secret_encrypted FROM staff_users"))
        columns = [row[1] for row in connection.execute(text("PRAGMA table_info(staff_users)"))]
    assert secret not in stored
    assert app.extensions[APP_KEY].decrypt(stored) == secret
    assert "totp_secret" not in columns

    with app.app_context():
        command.downgrade(alembic_config(url), "f8b52d3e0c21")
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT totp_secret FROM staff_users")) == secret, "the downgrade gives it back"
    engine.dispose()
