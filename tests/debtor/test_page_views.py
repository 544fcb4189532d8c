"""Page views written behind (PAGE_VIEW_FLUSH_SECONDS > 0): the overview only reads, and no view is lost.

These tests run on a SQLite file of their own, whatever database the suite uses: the write lock they are
about is SQLite's, and the page-view writer commits in its own transaction, outside the test's.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import count
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal import create_app
from portal.audit.models import AuditEvent
from portal.audit.services import SYSTEM
from portal.config import PROJECT_ROOT, ConfigError, load_config
from portal.customers.models import Customer
from portal.db import make_engine
from portal.debtor import visit_log as visit_log_module
from portal.debtor.events import PAGE_VIEWED
from portal.debtor.visit_log import MAX_FAILED_WRITES, flush_visits, visit_log
from portal.events.models import DomainEvent
from portal.events.registry import kind_named
from portal.extensions import db
from portal.invoices.models import Invoice
from portal.links.services import create_link
from portal.migrate import upgrade_to_head
from tests.conftest import TEST_SETTINGS

_numbers = count(1)


@dataclass(frozen=True)
class Database:
    path: Path
    url: str


@pytest.fixture(scope="module")
def own_database(tmp_path_factory: pytest.TempPathFactory) -> Database:
    path = tmp_path_factory.mktemp("page-views") / "portal.sqlite3"
    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    return Database(path, url)


@pytest.fixture()
def behind_app(own_database: Database, app: Flask) -> Iterator[Flask]:
    """An app that writes page views behind; the writer's own interval is long, so the test flushes."""
    built = create_app({**TEST_SETTINGS, "DATABASE_URL": own_database.url, "PAGE_VIEW_FLUSH_SECONDS": 60})
    yield built
    db.scoped.remove()
    built.extensions["portal_db_engine"].dispose()
    db.scoped.configure(bind=app.extensions["portal_db_engine"])  # the shared session, as the other tests have it


def _debtor_with_link(app: Flask) -> tuple[int, str]:
    """A customer with one overdue invoice and a personal link: (customer id, the link's path)."""
    n = next(_numbers)
    with app.app_context():
        customer = Customer(external_ref=f"PV-{n:04d}", name=f"Page View {n}", email=f"pv{n}@example.com")
        db.session.add(customer)
        db.session.flush()
        issued = date(2026, 10, 1)
        db.session.add(
            Invoice(
                customer_id=customer.id,
                number=f"PV2026-{n:04d}",
                issue_date=issued,
                due_date=issued + timedelta(days=14),
                subtotal_cents=10_000,
                vat_cents=2_100,
                total_cents=12_100,
            )
        )
        link = create_link(db.session, customer, ttl_days=30, created_by="test", actor=SYSTEM)
        db.session.commit()
        return customer.id, f"/p/{link.token}"


def _records(app: Flask, customer_id: int) -> tuple[list[str], list[str]]:
    """(audit actions, event kinds) of the customer, oldest first."""
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.customer_id == customer_id).order_by(AuditEvent.id)
        ).all()
        kinds = db.session.scalars(
            select(DomainEvent.kind).where(DomainEvent.customer_id == customer_id).order_by(DomainEvent.id)
        ).all()
        db.session.rollback()
        return list(actions), list(kinds)


def test_the_overview_opens_while_another_request_holds_the_write_lock(behind_app, own_database):
    customer_id, link_path = _debtor_with_link(behind_app)
    client = behind_app.test_client()
    client.get(link_path)

    # Another process in the middle of a write (a payment, an import, someone else's page views).
    writer = sqlite3.connect(own_database.path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        response = client.get("/overview")
    finally:
        writer.rollback()
        writer.close()

    assert response.status_code == 200
    assert "PV2026-" in response.get_data(as_text=True)
    # Nothing of the view is lost: it is written with the next batch.
    with behind_app.app_context():
        assert flush_visits() == 3
    actions, kinds = _records(behind_app, customer_id)
    assert actions[-2:] == ["link.opened", "overview.viewed"]
    assert kinds[-2:] == ["portal.visited", "portal.page_viewed"]


def test_the_access_record_says_who_saw_the_overview_from_where_and_when(behind_app):
    customer_id, link_path = _debtor_with_link(behind_app)
    client = behind_app.test_client()
    client.get(link_path)

    client.get("/overview", headers={"User-Agent": "Campaign phone"}, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    client.get("/overview", headers={"User-Agent": "Campaign phone"}, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    with behind_app.app_context():
        flush_visits()
        rows = db.session.execute(
            select(AuditEvent.actor_type, AuditEvent.ip_address, AuditEvent.user_agent, AuditEvent.occurred_at)
            .where(AuditEvent.customer_id == customer_id, AuditEvent.action == "overview.viewed")
            .order_by(AuditEvent.id)
        ).all()
        db.session.rollback()

    assert [tuple(row[:3]) for row in rows] == [
        ("debtor", "192.0.2.7", "Campaign phone"),
        ("debtor", "192.0.2.7", "Campaign phone"),
    ]
    assert rows[0].occurred_at <= rows[1].occurred_at
    # One visit: it starts once, and both views are its pages.
    assert _records(behind_app, customer_id)[1][-3:] == ["portal.visited", "portal.page_viewed", "portal.page_viewed"]


def test_page_views_still_waiting_are_written_when_the_process_stops(behind_app, own_database):
    customer_id, link_path = _debtor_with_link(behind_app)
    script = textwrap.dedent(
        f"""
        from portal import create_app
        app = create_app({{**{TEST_SETTINGS!r}, "DATABASE_URL": {own_database.url!r}, "PAGE_VIEW_FLUSH_SECONDS": 60}})
        client = app.test_client()
        assert client.get({link_path!r}).status_code == 302
        assert client.get("/overview").status_code == 200
        """
    )
    # A normal exit, as gunicorn's worker makes on SIGTERM or a restart; the writer's minute has not passed.
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr
    actions, kinds = _records(behind_app, customer_id)
    assert actions[-1] == "overview.viewed"
    assert kinds[-2:] == ["portal.visited", "portal.page_viewed"]


def test_views_whose_write_failed_are_written_with_the_next_batch(behind_app, tmp_path):
    customer_id, link_path = _debtor_with_link(behind_app)
    client = behind_app.test_client()
    client.get(link_path)
    client.get("/overview")
    unreachable = make_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.sqlite3'}")

    with behind_app.app_context(), pytest.raises(OperationalError), Session(unreachable) as away:
        flush_visits(away)  # the database is away for a moment
    with behind_app.app_context():
        assert flush_visits() == 3

    assert _records(behind_app, customer_id)[0][-1] == "overview.viewed"


def test_a_wrong_page_view_interval_stops_the_start_with_its_name():
    with pytest.raises(ConfigError, match="PORTAL_PAGE_VIEW_FLUSH_SECONDS"):
        load_config({**TEST_SETTINGS, "PAGE_VIEW_FLUSH_SECONDS": "soon"})


def test_the_flush_at_exit_waits_for_a_write_in_progress(behind_app, own_database, monkeypatch):
    """The writer took the rows and is writing them (SQLite may wait seconds for its lock) when the process
    stops: the exit's flush must wait for that write, or the interpreter kills the writer and the views are gone."""
    customer_id, link_path = _debtor_with_link(behind_app)
    client = behind_app.test_client()
    client.get(link_path)
    client.get("/overview")
    log = visit_log(behind_app)
    writing, may_finish = threading.Event(), threading.Event()
    real_insert = visit_log_module._insert

    def slow_insert(session, rows):  # noqa: ANN001, ANN202
        writing.set()
        may_finish.wait()
        real_insert(session, rows)

    monkeypatch.setattr(visit_log_module, "_insert", slow_insert)
    writer = threading.Thread(target=log.flush)
    writer.start()
    writing.wait()
    monkeypatch.setattr(visit_log_module, "_insert", real_insert)

    # The exit's flush; it lets the writer finish once it would wait for it (or returns at once if it does not).
    class _Releasing:
        def __init__(self, lock: threading.Lock) -> None:
            self.lock = lock

        def __enter__(self) -> None:
            may_finish.set()
            self.lock.acquire()

        def __exit__(self, *exc: object) -> None:
            self.lock.release()

    if hasattr(log, "_flush_lock"):
        log._flush_lock = _Releasing(log._flush_lock)  # type: ignore[assignment]
    log._flush_at_exit()
    seen_at_exit = _records(behind_app, customer_id)[0]
    may_finish.set()
    writer.join()

    assert seen_at_exit[-2:] == ["link.opened", "overview.viewed"]


def test_a_batch_that_keeps_failing_is_dropped_and_said_so(behind_app, tmp_path, caplog):
    customer_id, link_path = _debtor_with_link(behind_app)
    client = behind_app.test_client()
    client.get(link_path)
    client.get("/overview")
    unreachable = make_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.sqlite3'}")
    for _ in range(MAX_FAILED_WRITES):
        with behind_app.app_context(), Session(unreachable) as away, pytest.raises(OperationalError):
            flush_visits(away)
    assert f"dropping 3 rows after {MAX_FAILED_WRITES} failed writes" in caplog.text
    assert visit_log(behind_app).waiting() == 0

    client.get("/overview")  # later views are written as usual
    with behind_app.app_context():
        assert flush_visits() >= 1
    assert _records(behind_app, customer_id)[0].count("overview.viewed") == 1  # the first view's was dropped


def test_while_the_database_is_away_only_so_many_rows_wait(behind_app, monkeypatch, caplog):
    monkeypatch.setattr(visit_log_module, "MAX_PENDING_ROWS", 2)
    customer_id, link_path = _debtor_with_link(behind_app)
    client = behind_app.test_client()
    client.get(link_path)
    client.get("/overview")  # three rows, the third is dropped
    assert visit_log(behind_app).waiting() == 2
    assert "new rows are dropped" in caplog.text
    with behind_app.app_context():
        assert flush_visits() == 2


@pytest.mark.parametrize("language", ["en", "nl"])
def test_every_page_a_debtor_can_view_has_a_name_on_the_staff_timeline(app, language):
    """Staff read "Promise to pay: choose a date", not the code ``promise``. Every page code the debtor pages
    note (``note_visit("...")`` and the direct-debit pages' ``_note_and_commit("...")``) has a name."""
    pattern = re.compile(r'(?:note_visit|_note_and_commit)\("(\w+)"')
    codes = {code for path in (PROJECT_ROOT / "portal").rglob("*.py") for code in pattern.findall(path.read_text())}
    assert {"overview", "promise", "dispute", "debit_day"} <= codes, "the scan finds the pages"
    present = kind_named(PAGE_VIEWED).present
    with app.test_request_context(), force_locale(language):
        titles = {code: present(DomainEvent(payload={"page": code, "invoice": "F-1"}), None).title for code in codes}
    assert [code for code, title in titles.items() if title == code or not title] == []
    assert titles["promise"] == {"en": "Promise to pay: choose a date", "nl": "Betaalbelofte: kies een datum"}[language]
