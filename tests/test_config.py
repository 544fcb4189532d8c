"""Configuration from PORTAL_* variables, checked at start-up with messages that say what to fix."""

from __future__ import annotations

import pytest

from portal.config import DEMO_DATABASE_URL, ConfigError, load_config


def test_the_demo_needs_no_variables(monkeypatch):
    for name in ("PORTAL_DATABASE_URL", "PORTAL_SECRET_KEY", "PORTAL_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    config = load_config()
    assert config["DATABASE_URL"] == DEMO_DATABASE_URL
    assert len(config["SECRET_KEY"]) >= 32
    assert config["LINK_TTL_DAYS"] == 90


def test_variables_with_the_portal_prefix_are_read(monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql://portal@db.internal/portal")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PORTAL_BASE_URL", "https://pay.example.com/")
    monkeypatch.setenv("PORTAL_LINK_TTL_DAYS", "30")
    config = load_config()
    assert config["DATABASE_URL"] == "postgresql+psycopg://portal@db.internal/portal"
    assert config["BASE_URL"] == "https://pay.example.com"
    assert config["LINK_TTL_DAYS"] == 30


def test_every_problem_is_named_at_once(monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql://portal@db.internal/portal")
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_BASE_URL", "pay.example.com")
    monkeypatch.setenv("PORTAL_LINK_TTL_DAYS", "ninety")
    monkeypatch.setenv("PORTAL_DEFAULT_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ConfigError) as raised:
        load_config()
    message = str(raised.value)
    assert "PORTAL_SECRET_KEY is required" in message
    assert "PORTAL_BASE_URL must be an absolute http(s) URL" in message
    assert "PORTAL_LINK_TTL_DAYS must be a whole number" in message
    assert "PORTAL_DEFAULT_TIMEZONE must be an IANA time zone" in message


def test_an_unsupported_database_is_refused():
    with pytest.raises(ConfigError, match="PORTAL_DATABASE_URL"):
        load_config({"DATABASE_URL": "mysql://root@localhost/portal", "SECRET_KEY": "x" * 40})


# ------------------------------------------------------------------ an https address looks like production

_PRODUCTION_VARIABLES = (
    "PORTAL_DATABASE_URL",
    "PORTAL_SECRET_KEY",
    "PORTAL_BASE_URL",
    "PORTAL_DEMO_PAYMENTS",
    "PORTAL_MOLLIE_API_KEY",
    "PORTAL_STRIPE_SECRET_KEY",
    "PORTAL_ALLOW_GENERATED_SECRET",
    "PORTAL_ALLOW_SQLITE",
)


@pytest.fixture()
def https(monkeypatch):
    """Only what a test sets: the machine running the tests may have PORTAL_* variables of its own."""
    for name in _PRODUCTION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_BASE_URL", "https://pay.example.com")
    return monkeypatch


def _refusal() -> str:
    with pytest.raises(ConfigError) as raised:
        load_config()
    return str(raised.value)


def test_development_on_http_still_starts_with_the_defaults(https):
    https.setenv("PORTAL_BASE_URL", "http://127.0.0.1:5000")
    config = load_config()
    assert config["DATABASE_URL"] == DEMO_DATABASE_URL
    assert len(config["SECRET_KEY"]) >= 32


def test_https_with_every_demo_default_names_each_variable_to_set(https):
    message = _refusal()
    assert "PORTAL_SECRET_KEY is required with an https PORTAL_BASE_URL" in message
    assert "PORTAL_ALLOW_GENERATED_SECRET=1" in message
    assert "PORTAL_ALLOW_SQLITE=1" in message
    assert "PORTAL_DEMO_PAYMENTS=off" in message


def test_https_with_postgresql_a_secret_and_a_provider_starts(https):
    https.setenv("PORTAL_DATABASE_URL", "postgresql://portal@db.internal/portal")
    https.setenv("PORTAL_SECRET_KEY", "s" * 40)
    https.setenv("PORTAL_MOLLIE_API_KEY", "live_abc")
    assert load_config()["SECRET_KEY"] == "s" * 40


def test_https_on_sqlite_needs_allow_sqlite(https, tmp_path):
    https.setenv("PORTAL_DATABASE_URL", f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    https.setenv("PORTAL_SECRET_KEY", "s" * 40)
    message = _refusal()
    assert "PORTAL_DATABASE_URL is SQLite" in message and "PORTAL_ALLOW_SQLITE=1" in message

    https.setenv("PORTAL_ALLOW_SQLITE", "1")
    assert load_config()["DATABASE_URL"].startswith("sqlite:///")


def test_https_refuses_demo_payments_by_auto_but_not_when_chosen(https):
    https.setenv("PORTAL_ALLOW_SQLITE", "1")
    https.setenv("PORTAL_SECRET_KEY", "s" * 40)
    message = _refusal()
    assert "PORTAL_DEMO_PAYMENTS=auto would let debtors pay with the demo provider" in message
    assert "PORTAL_DEMO_PAYMENTS=on" in message

    for choice in ("on", "off"):
        https.setenv("PORTAL_DEMO_PAYMENTS", choice)
        assert load_config()["DEMO_PAYMENTS"] == choice


def test_https_refuses_a_generated_secret_key_unless_allowed(https):
    https.setenv("PORTAL_ALLOW_SQLITE", "1")
    https.setenv("PORTAL_DEMO_PAYMENTS", "off")
    message = _refusal()
    assert "PORTAL_SECRET_KEY is required with an https PORTAL_BASE_URL" in message
    assert "PORTAL_ALLOW_GENERATED_SECRET=1" in message

    https.setenv("PORTAL_ALLOW_GENERATED_SECRET", "1")
    assert len(load_config()["SECRET_KEY"]) >= 32


def test_a_switch_that_is_neither_on_nor_off_is_named(https):
    https.setenv("PORTAL_ALLOW_SQLITE", "maybe")
    assert "PORTAL_ALLOW_SQLITE must be 1 (on) or 0 (off)" in _refusal()


def test_a_gunicorn_worker_leaves_the_loaded_app_out_of_full_garbage_collections():
    import gc
    import runpy
    from pathlib import Path

    settings = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    assert settings["logger_class"] == "portal.gunicorn_logger.RedactingLogger"
    try:
        settings["post_worker_init"](object())
        assert gc.get_freeze_count() > 10_000  # the test process's app, modules and all
    finally:
        gc.unfreeze()
