"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via PORTAL_TEST_DATABASE_URL),
the app, and a transaction per test that is rolled back at the end."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session, scoped_session

from portal import clock, create_app
from portal.config import load_config
from portal.db import make_engine
from portal.extensions import db, limiter
from portal.migrate import upgrade_to_head

pytest_plugins = [
    "tests.fixtures.factories",
    "tests.fixtures.smtp",
    "tests.fixtures.stripe_standin",
    "tests.fixtures.mollie_standin",
    "tests.fixtures.provider_apps",
]

TEST_SETTINGS = {
    "SECRET_KEY": "test-secret-key-that-is-long-enough-for-signing",
    "BASE_URL": "http://localhost",
    "LINK_RATE_LIMIT": "10000 per minute",
    "DEMO_PAYMENTS": "on",
    # Tests tick the in-process scheduler themselves (tests/test_scheduler.py); no thread of its own.
    "SCHEDULER": "off",
    # Page views written in the request's own transaction, so a test sees them at once; the write-behind
    # mode has tests of its own (tests/debtor/test_page_views.py).
    "PAGE_VIEW_FLUSH_SECONDS": 0,
}


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head: the schema the tests use comes from the migrations."""
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url:
        url = load_config({**TEST_SETTINGS, "DATABASE_URL": url})["DATABASE_URL"]
        _reset_postgres(url)
    else:
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'test.sqlite3'}"
    upgrade_to_head(url)
    return url


class ClosingClient(FlaskClient):
    """Closes each response, as a real server does once it is sent, so work queued for after it runs."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    # Files debtors attach go to a folder of the test run, never into the project's instance folder.
    files = tmp_path_factory.mktemp("files")
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "FILES_DIR": str(files)})
    app.test_client_class = ClosingClient
    return app


@pytest.fixture()
def make_app(database_url: str, app: Flask) -> Iterator[Callable[..., Flask]]:
    """Build an extra app with other settings; its connections are closed after the test."""
    engines: list[Any] = []

    def build(**settings: object) -> Flask:
        try:
            extra = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, **settings})
        finally:
            # create_app binds the shared session to an engine of its own, also when its configuration
            # stops it half-way (a test of a refused start-up): that engine is closed after the test too.
            if db.engine is not None and db.engine is not app.extensions["portal_db_engine"]:
                engines.append(db.engine)
        extra.test_client_class = ClosingClient
        return extra

    yield build
    db.scoped.remove()
    for engine in {id(engine): engine for engine in engines}.values():
        engine.dispose()
    # The shared session goes back to the suite's own engine, so later tests never use a closed one.
    db.scoped.configure(bind=app.extensions["portal_db_engine"])


@pytest.fixture()
def session(app: Flask) -> Iterator[scoped_session[Session]]:
    """The app's own (scoped) session, inside a transaction that is rolled back after the test.

    Requests made by the test client run in their own app context and close their session at the
    end, as in production; so factories commit (to a savepoint) and tests re-read after a request.
    """
    # Bind to this app's engine: a test that built another app may have re-bound the shared session.
    engine = app.extensions["portal_db_engine"]
    connection = engine.connect()
    transaction = connection.begin()
    db.scoped.remove()
    db.scoped.configure(bind=connection, join_transaction_mode="create_savepoint")
    limiter.reset()
    try:
        yield db.session
    finally:
        db.scoped.remove()
        db.session.session_factory.kw.pop("join_transaction_mode", None)
        db.scoped.configure(bind=engine)
        transaction.rollback()
        connection.close()


@pytest.fixture()
def client(app: Flask, session: Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def frozen_clock() -> Iterator[time_machine.Traveller]:
    """Stop the one clock where it is; ``frozen_clock.shift(timedelta(...))`` moves it on. Nothing sleeps."""
    with time_machine.travel(clock.now(), tick=False) as traveller:
        yield traveller
