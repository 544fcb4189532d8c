"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via PORTAL_TEST_DATABASE_URL),
the app, and a transaction per test that is rolled back at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal import create_app
from portal.config import load_config
from portal.db import make_engine
from portal.extensions import db, limiter
from portal.migrate import upgrade_to_head

pytest_plugins = ["tests.fixtures.factories"]

TEST_SETTINGS = {
    "SECRET_KEY": "test-secret-key-that-is-long-enough-for-signing",
    "BASE_URL": "http://localhost",
    "LINK_RATE_LIMIT": "10000 per minute",
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


@pytest.fixture(scope="session")
def app(database_url: str) -> Flask:
    return create_app({**TEST_SETTINGS, "DATABASE_URL": database_url})


@pytest.fixture()
def session(app: Flask) -> Iterator[Session]:
    """The app's own session, inside a transaction that is rolled back after the test."""
    assert db.engine is not None
    connection = db.engine.connect()
    transaction = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    limiter.reset()
    try:
        with app.app_context():
            yield db.session()
    finally:
        db.session.remove()
        db.session.configure(bind=db.engine, join_transaction_mode="conservative_savepoint")
        transaction.rollback()
        connection.close()


@pytest.fixture()
def client(app: Flask, session: Session) -> FlaskClient:
    return app.test_client()
