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
