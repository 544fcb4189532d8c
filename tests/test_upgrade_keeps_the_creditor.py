"""Upgrading a deployment that set the creditor in environment variables keeps that creditor."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from portal.config import load_config
from portal.db import make_engine
from portal.migrate import upgrade_to_head
from portal.settings.services import creditor_details, partial_payment_minimum_cents


def test_the_former_variables_become_the_first_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_CREDITOR_NAME", "Waterbedrijf Noord N.V.")
    monkeypatch.setenv("PORTAL_CREDITOR_IBAN", "nl02 abna 0123 4567 89")
    monkeypatch.setenv("PORTAL_CREDITOR_PHONE", "+31 50 123 0000")
    monkeypatch.setenv("PORTAL_PARTIAL_PAYMENT_MINIMUM", "25.00")
    url = f"sqlite:///{tmp_path}/upgraded.sqlite3"
    upgrade_to_head(url)
    engine = make_engine(url)
    with Session(engine) as session:
        creditor = creditor_details(session)
        assert (creditor["name"], creditor["iban"], creditor["phone"]) == (
            "Waterbedrijf Noord N.V.",
            "NL02ABNA0123456789",
            "+31 50 123 0000",
        )
        assert creditor["bic"] == "ABNANL2A", "what was never set keeps its default"
        assert partial_payment_minimum_cents(session, "EUR") == 2500
    engine.dispose()


def test_start_up_says_the_former_variables_are_no_longer_read(monkeypatch, caplog):
    monkeypatch.setenv("PORTAL_CREDITOR_IBAN", "NL02ABNA0123456789")
    with caplog.at_level(logging.WARNING, logger="portal.config"):
        load_config({"SECRET_KEY": "x" * 40})
    assert "PORTAL_CREDITOR_IBAN no longer read" in caplog.text
