"""The migration moves staff's payment-method choices into a first version of ``payments.methods``, and back."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from portal.db import make_engine
from portal.migrate import alembic_config
from portal.settings.services import get_setting

BEFORE = "e7a41c2d9b10"
SAVED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def test_saved_payment_methods_survive_the_move_into_settings_and_back(tmp_path):
    url = f"sqlite:///{tmp_path}/methods.sqlite3"
    config = alembic_config(url)
    command.upgrade(config, BEFORE)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO payment_method_settings (method, provider, enabled, updated_at) VALUES "
                "('paypal', 'mollie', 0, :at), ('ideal', 'mollie', 1, :at)"
            ),
            {"at": SAVED_AT.replace(tzinfo=None)},
        )

    command.upgrade(config, "head")
    assert "payment_method_settings" not in inspect(engine).get_table_names()
    with Session(engine) as session:
        expected = {
            "ideal": {"provider": "mollie", "enabled": True},
            "paypal": {"provider": "mollie", "enabled": False},
        }
        assert get_setting(session, "payments.methods") == expected
        assert get_setting(session, "payments.methods", at=SAVED_AT.replace(hour=9, minute=0)) == {}

    command.downgrade(config, BEFORE)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT method, provider, enabled FROM payment_method_settings ORDER BY method")
        ).all()
    assert [tuple(row) for row in rows] == [("ideal", "mollie", 1), ("paypal", "mollie", 0)]
    assert "setting_versions" not in inspect(engine).get_table_names()
    engine.dispose()
