"""The health check, the migrations, and the audit trail's append-only guarantee."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from portal.audit.services import record
from portal.db import make_engine
from portal.migrate import downgrade_to_base, upgrade_to_head
from tests.fixtures.factories import TEST_ACTOR


def test_healthz_answers_200_when_the_database_is_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_healthz_answers_503_when_the_database_is_not(tmp_path, make_app):
    broken = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503


def test_migrations_go_down_to_nothing_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path}/roundtrip.sqlite3"
    upgrade_to_head(url)
    downgrade_to_base(url)
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_to_head(url)
    assert {"customers", "invoices", "portal_links", "audit_events"} <= set(inspect(engine).get_table_names())
    engine.dispose()


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"])
def test_the_audit_trail_cannot_be_changed_or_deleted(session, statement):
    record(session, TEST_ACTOR, "test.recorded")
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text(statement))
    assert session.execute(text("SELECT count(*) FROM audit_events WHERE action = 'test.recorded'")).scalar() == 1
