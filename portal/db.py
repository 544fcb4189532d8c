"""The database: declarative base with a naming convention, UTC datetimes, and the session."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, DateTime, MetaData, create_engine, event, literal
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC; SQLite keeps no zone, so we put it back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; times are stored in UTC and must carry a zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def in_fixed(column: ColumnElement[Any] | QueryableAttribute[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` for a statement built once and run on every page: one bound parameter per value.
    A plain ``in_()`` expands its list anew on every execution, which costs more than the query itself."""
    return column.in_([literal(value, column.type) for value in values])


# An execution option: this transaction only reads (see Database.reads_only).
READS_ONLY = "portal_reads_only"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin, so SAVEPOINTs work
            # (the recipe from SQLAlchemy's SQLite dialect documentation).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL never corrupts the file; only the last commits before a power cut may be
            # lost. That suits the embedded database; production runs PostgreSQL.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # IMMEDIATE takes the write lock up front. Nearly every request writes (the audit trail),
            # and a deferred transaction that reads first and writes later fails at once with
            # "database is locked" when another process committed in between; busy_timeout does
            # not cover that case, but it does make an IMMEDIATE begin wait its turn.
            # A transaction that only reads (Database.reads_only) begins deferred: in WAL mode a reader
            # neither waits for the writer nor holds it up.
            if connection.get_execution_options().get(READS_ONLY):
                connection.exec_driver_sql("BEGIN")
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """Holds the engine and a request-scoped session; the request (or job) commits once."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.scoped: scoped_session[Session] = scoped_session(sessionmaker(expire_on_commit=False))

    @property
    def session(self) -> Session:
        """The session of this request, job or thread. A scoped_session proxies every Session method,
        so callers (services typed for a plain Session) see it as one; ``scoped`` ends or rebinds it."""
        return cast(Session, self.scoped)

    def reads_only(self) -> None:
        """Declare that this request's transaction only reads; call it before the first query. On SQLite
        it then begins without the write lock (a write in it could fail with "database is locked");
        elsewhere it changes nothing."""
        self.session.connection(execution_options={READS_ONLY: True})

    def init_app(self, app: Any) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["portal_db_engine"] = self.engine
        self.scoped.configure(bind=self.engine)
        app.teardown_appcontext(self._remove_session)

    def _remove_session(self, _exc: BaseException | None) -> None:
        self.scoped.remove()
