"""The event log: append-only, one row per emit in the caller's transaction, reactions in that transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from portal.db import make_engine
from portal.events import Event, EventKind, Presentation, emit, emit_many, register
from portal.events.models import DomainEvent
from portal.events.registry import _KINDS, kinds_in, react_to
from portal.migrate import alembic_config
from tests.fixtures.factories import TEST_ACTOR


@pytest.fixture()
def test_kind():
    kind = register(EventKind(name="test.happened", category="test", present=lambda e, _x: Presentation("Test")))
    yield kind
    _KINDS.pop(kind.name)


@pytest.mark.parametrize("statement", ["UPDATE domain_events SET kind = 'x'", "DELETE FROM domain_events"])
def test_the_event_log_cannot_be_changed_or_deleted(session, test_kind, statement):
    emit(session, Event("test.happened", TEST_ACTOR, payload={"n": 1}))
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text(statement))
    assert session.scalar(select(func.count()).where(DomainEvent.kind == "test.happened")) == 1


def test_an_event_of_an_unknown_kind_is_refused_before_anything_is_written(session):
    with pytest.raises(LookupError, match="declare it"):
        emit(session, Event("nobody.declared", TEST_ACTOR))
    assert session.scalar(select(func.count()).select_from(DomainEvent)) == 0


def test_reactions_run_in_the_emitting_transaction_and_vanish_with_it(session, test_kind, create_customer):
    customer = create_customer()
    seen: list[int] = []
    react_to("test.happened", lambda s, event: seen.append(event.id))
    event = emit(session, Event("test.happened", TEST_ACTOR, customer_id=customer.id))
    assert seen == [event.id], "the reaction saw the event's id before any commit"
    session.rollback()
    assert session.scalar(select(func.count()).where(DomainEvent.kind == "test.happened")) == 0


def test_many_events_are_written_in_one_go_with_their_times(session, test_kind):
    when = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    written = emit_many(session, (Event("test.happened", TEST_ACTOR, occurred_at=when) for _ in range(3)))
    assert written == 3
    times = session.scalars(select(DomainEvent.occurred_at).where(DomainEvent.kind == "test.happened")).all()
    assert times == [when] * 3
    assert kinds_in("test") == ["test.happened"]


def test_the_upgrade_writes_the_history_from_before_the_event_log(tmp_path):
    """A deployment from before events keeps its customers' stories: the migration writes them as events."""
    url = f"sqlite:///{tmp_path}/history.sqlite3"
    config = alembic_config(url)
    command.upgrade(config, "c5afdb510ff1")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (id, external_ref, name, language, kind, country, time_zone, created_at) "
                "VALUES (1, 'C-1', 'Old Customer', 'nl', 'consumer', 'NL', 'Europe/Amsterdam', '2026-11-01 08:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO invoices (customer_id, number, category, issue_date, due_date, currency, subtotal_cents,"
                " vat_cents, total_cents, state, paid_cents, created_at) VALUES (1, 'F-OLD', 'general', "
                "'2026-10-01', '2026-10-15', 'EUR', 1000, 210, 1210, 'open', 0, '2026-10-01 08:00:00')"
            )
        )
        audit = (
            "INSERT INTO audit_events (occurred_at, actor_type, actor_id, action, customer_id, subject_type,"
            " subject_id, details) VALUES (:at, :type, 'C-1', :action, 1, :subject_type, :subject_id, :details)"
        )
        for at, action, subject_type, subject_id, details in [
            ("2026-11-02 10:00:00", "link.opened", "link", "7", "{}"),
            ("2026-11-02 10:01:00", "overview.viewed", None, None, "{}"),
            ("2026-11-02 10:02:00", "invoice.viewed", "invoice", "F-OLD", "{}"),
            ("2026-11-02 10:05:00", "payment.paid", "payment", "3", '{"amount_cents": 1210, "currency": "EUR"}'),
            ("2026-11-03 12:00:00", "overview.viewed", None, None, "{}"),
        ]:
            connection.execute(
                text(audit),
                {
                    "at": at,
                    "type": "debtor",
                    "action": action,
                    "subject_type": subject_type,
                    "subject_id": subject_id,
                    "details": details,
                },
            )
    command.upgrade(config, "head")
    with Session(engine) as session:
        events = session.scalars(select(DomainEvent).order_by(DomainEvent.occurred_at, DomainEvent.id)).all()
        kinds = [event.kind for event in events]
        paid = next(event for event in events if event.kind == "payment.paid")
        assert paid.payload == {"amount_cents": 1210, "currency": "EUR"}, "the audit record's details are kept"
        assert paid.subject_id == "3" and paid.actor_type == "debtor"
    engine.dispose()
    assert kinds == [
        "invoice.issued",
        "portal.visited",
        "portal.page_viewed",
        "portal.page_viewed",
        "payment.paid",
        "portal.visited",  # the next day: a visit of its own
        "portal.page_viewed",
    ]


def test_every_kind_the_demo_writes_is_declared_in_a_fresh_process(tmp_path):
    """A process that only ran create_app (a worker, the CLI) knows every kind the portal writes."""
    import subprocess
    import sys

    script = (
        "from portal import create_app\n"
        "from portal.events.registry import find_kind\n"
        "create_app({'SECRET_KEY': 'x' * 40, 'DATABASE_URL': 'sqlite:///" + str(tmp_path / "fresh.sqlite3") + "'})\n"
        "kinds = ['invoice.issued', 'invoice.paid', 'payment.started', 'payment.paid', 'payment.refunded',\n"
        "         'link.created', 'link.refused', 'note.added', 'message.queued', 'portal.visited',\n"
        "         'portal.page_viewed']\n"
        "missing = [kind for kind in kinds if find_kind(kind) is None]\n"
        "print('missing', missing)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert "missing []" in done.stdout, done.stdout + done.stderr
