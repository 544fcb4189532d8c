"""A debtor's page views, written behind: kept in memory for a moment, then many written in one transaction.

A page view is a read, but its records (the access record in the audit trail, the visit's events for the
timeline) are writes. Written in the request, every overview took SQLite's one database-wide write lock, so
a reminder campaign's debtors queued behind each other (issue 10); on PostgreSQL every view paid a commit.
Kept here, the request only reads (on SQLite it begins without the write lock: ``Database.reads_only``), and
each process writes what came in once every ``PAGE_VIEW_FLUSH_SECONDS`` (default 1), or sooner when
``FLUSH_AT_ROWS`` rows wait, in one transaction of multi-row INSERTs.

What can be lost: only what waits here when the process is killed outright (SIGKILL, a power cut): at most
``PAGE_VIEW_FLUSH_SECONDS`` of one process's views. A normal stop (SIGTERM, a gunicorn restart, the end of a
CLI command) writes them first. A write that fails (the database away for a moment) keeps its rows for the
next one. With ``PAGE_VIEW_FLUSH_SECONDS=0`` the records are written in the request's own transaction, as
before; the tests run so, and :func:`flush_visits` writes the waiting rows at once in the other mode.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Table, insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

FLUSH_AT_ROWS = 500  # wake the writer early when this many rows wait
EXTENSION_KEY = "portal_visit_log"


class VisitLog:
    """Rows for append-only tables (audit_events, domain_events), waiting to be written, in order."""

    def __init__(self, engine: Engine, flush_seconds: float) -> None:
        self.engine = engine
        self.flush_seconds = flush_seconds
        self._reset()

    @property
    def writes_behind(self) -> bool:
        """True when the rows are written by the background writer, not in the request's transaction."""
        return self.flush_seconds > 0

    def _reset(self) -> None:
        # Also after a fork: the child starts with no rows (they are the parent's) and a writer of its own.
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: list[tuple[Table, dict[str, Any]]] = []
        self._writer: threading.Thread | None = None

    def add(self, session: Session, table: Table, row: dict[str, Any]) -> None:
        """Keep ``row`` for ``table``; without write-behind it goes into ``session`` (the caller commits)."""
        if not self.writes_behind:
            session.execute(insert(table), [row])
            return
        if self._pid != os.getpid():
            self._reset()
        with self._lock:
            self._pending.append((table, row))
            waiting = len(self._pending)
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_forever, name="page-view-writer", daemon=True)
                self._writer.start()
                atexit.register(self._flush_at_exit)
        if waiting >= FLUSH_AT_ROWS:
            self._wake.set()

    def flush(self, session: Session | None = None) -> int:
        """Write every waiting row; into ``session`` if given (the caller commits), else in a transaction of
        its own. Returns the number of rows. Rows whose write failed wait for the next flush."""
        with self._lock:
            rows, self._pending = self._pending, []
        if not rows:
            return 0
        try:
            if session is not None:
                _insert(session, rows)
            else:
                with Session(self.engine) as own, own.begin():
                    _insert(own, rows)
        except Exception:
            with self._lock:
                self._pending[:0] = rows
            raise
        return len(rows)

    def _flush_at_exit(self) -> None:
        if self._pid != os.getpid():
            return  # a forked child that never wrote: the rows are its parent's
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - exiting anyway; say what is lost
            log.exception("writing page views at exit failed; %d rows are lost", len(self._pending))

    def _write_forever(self) -> None:
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the writer must outlive a database that is away for a while
                log.exception("writing page views failed; %d rows wait for the next try", len(self._pending))


def _insert(session: Session, rows: list[tuple[Table, dict[str, Any]]]) -> None:
    """One multi-row INSERT per table, tables in the order their first row came."""
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for table, row in rows:
        by_table.setdefault(table, []).append(row)
    for table, table_rows in by_table.items():
        session.execute(insert(table), table_rows)


def init_app(app: Flask, engine: Engine) -> None:
    app.extensions[EXTENSION_KEY] = VisitLog(engine, float(app.config["PAGE_VIEW_FLUSH_SECONDS"]))


def visit_log(app: Flask | None = None) -> VisitLog:
    """The page-view log of ``app`` (the current app by default)."""
    log: VisitLog = (app or current_app).extensions[EXTENSION_KEY]
    return log


def flush_visits(session: Session | None = None) -> int:
    """Write the current app's waiting page views now (see :meth:`VisitLog.flush`)."""
    return visit_log().flush(session)
