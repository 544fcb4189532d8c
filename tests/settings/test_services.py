"""Versioned settings: defaults, new versions, the value in force at any moment, and the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from portal import clock
from portal.audit.models import AuditEvent
from portal.settings.models import SettingVersion
from portal.settings.services import (
    InvalidSettings,
    creditor_details,
    current_settings,
    get_setting,
    partial_payment_minimum_cents,
    set_settings,
)
from tests.fixtures.factories import TEST_ACTOR

CREDITOR_KEYS = {"name", "iban", "bic", "identifier", "email", "phone", "address", "vat_number", "legal_text"}


def test_a_fresh_deployment_has_the_demo_creditor_and_a_ten_euro_minimum(session):
    creditor = creditor_details(session)
    assert set(creditor) == CREDITOR_KEYS
    assert creditor["name"] == "Zonnig Energie B.V."
    assert creditor["iban"] == "NL91ABNA0417164300"
    assert partial_payment_minimum_cents(session, "EUR") == 1000
    assert partial_payment_minimum_cents(session, "USD") is None


def test_a_change_is_a_new_version_and_the_old_value_stays_in_force_for_the_past(session, frozen_clock):
    march = clock.now()
    set_settings(session, {"creditor.phone": "+31 20 111 1111"}, actor=TEST_ACTOR)
    frozen_clock.shift(timedelta(days=30))
    april = clock.now()
    set_settings(session, {"creditor.phone": "+31 20 222 2222"}, actor=TEST_ACTOR)
    session.commit()

    assert get_setting(session, "creditor.phone") == "+31 20 222 2222"
    assert get_setting(session, "creditor.phone", at=march + timedelta(days=1)) == "+31 20 111 1111"
    assert get_setting(session, "creditor.phone", at=march - timedelta(seconds=1)) == "+31 20 123 4567"
    assert creditor_details(session, at=april - timedelta(microseconds=1))["phone"] == "+31 20 111 1111"
    versions = session.scalars(select(SettingVersion).where(SettingVersion.key == "creditor.phone")).all()
    assert [(v.version, v.value, v.changed_by) for v in versions] == [
        (1, "+31 20 111 1111", "system"),
        (2, "+31 20 222 2222", "system"),
    ]


def test_two_changes_in_the_same_instant_keep_their_order(session, frozen_clock):
    set_settings(session, {"creditor.phone": "+31 20 111 1111"}, actor=TEST_ACTOR)
    set_settings(session, {"creditor.phone": "+31 20 333 3333"}, actor=TEST_ACTOR)
    assert get_setting(session, "creditor.phone") == "+31 20 333 3333"


def test_each_change_is_audited_with_the_old_and_new_value_and_unchanged_keys_are_not(session):
    changed = set_settings(
        session,
        {"creditor.phone": "+31 20 765 4321", "creditor.name": "Zonnig Energie B.V."},
        actor=TEST_ACTOR,
    )
    assert changed == ["creditor.phone"]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "setting.changed")).one()
    assert (event.subject_type, event.subject_id) == ("setting", "creditor.phone")
    assert event.details == {"old": "+31 20 123 4567", "new": "+31 20 765 4321"}
    assert set_settings(session, {"creditor.phone": " +31 20 765 4321 "}, actor=TEST_ACTOR) == []


def test_values_are_normalised_by_their_validator(session):
    set_settings(
        session,
        {
            "creditor.iban": "nl02 abna 0123 4567 89",
            "creditor.bic": "abnanl2a",
            "creditor.vat_number": "nl 123.456.789.b01",
        },
        actor=TEST_ACTOR,
    )
    creditor = creditor_details(session)
    assert (creditor["iban"], creditor["bic"], creditor["vat_number"]) == (
        "NL02ABNA0123456789",
        "ABNANL2A",
        "NL123456789B01",
    )


def test_one_refused_value_writes_nothing_at_all(session):
    with pytest.raises(InvalidSettings) as refused:
        set_settings(
            session,
            {"creditor.phone": "+31 20 999 9999", "creditor.iban": "NL00BANK0123456789"},
            actor=TEST_ACTOR,
        )
    assert refused.value.problems["creditor.iban"].code == "invalid_iban"
    assert session.scalars(select(SettingVersion)).all() == []
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "setting.changed")).all() == []


@pytest.mark.parametrize("amount", ["-5", "ten", "0", "1.234", "10,001"])
def test_a_minimum_that_is_not_a_positive_amount_is_refused(session, amount):
    with pytest.raises(InvalidSettings) as refused:
        set_settings(session, {"payments.partial_payment_minimum": {"EUR": amount}}, actor=TEST_ACTOR)
    assert refused.value.problems["payments.partial_payment_minimum"].code == "invalid_amount"


def test_the_part_payment_minimum_is_per_currency(session):
    set_settings(session, {"payments.partial_payment_minimum": {"EUR": "25,00", "usd": ""}}, actor=TEST_ACTOR)
    assert get_setting(session, "payments.partial_payment_minimum") == {"EUR": 2500, "USD": None}
    assert partial_payment_minimum_cents(session, "EUR") == 2500
    assert partial_payment_minimum_cents(session, "USD") is None
    with pytest.raises(InvalidSettings):
        set_settings(session, {"payments.partial_payment_minimum": {"XYZ": "1.00"}}, actor=TEST_ACTOR)


def test_current_settings_by_prefix_and_an_unknown_key_fails_loudly(session):
    assert set(current_settings(session, prefix="payments.")) == {
        "payments.partial_payment_minimum",
        "payments.methods",
        "payments.paid_twice",
    }
    with pytest.raises(KeyError):
        get_setting(session, "creditor.shoe_size")


@pytest.mark.parametrize("statement", ["UPDATE setting_versions SET value = '\"x\"'", "DELETE FROM setting_versions"])
def test_the_history_cannot_be_rewritten(session, statement):
    set_settings(session, {"creditor.phone": "+31 20 444 4444"}, actor=TEST_ACTOR)
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text(statement))
    assert get_setting(session, "creditor.phone") == "+31 20 444 4444"
