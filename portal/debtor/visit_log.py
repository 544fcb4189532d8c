"""A debtor's page views, written behind: kept in memory for a moment, then many written in one transaction.

A page view is a read, but its records (the access record in the audit trail, the visit's events for the
timeline) are writes. Written in the request, every overview took SQLite's one database-wide write lock, so
a reminder campaign's debtors queued behind each other (issue 10); on PostgreSQL every view paid a commit.
Kept here, the request only reads (on SQLite it begins without the write lock: ``Database.reads_only``), and
each process writes what came in once every ``PAGE_VIEW_FLUSH_SECONDS`` (default 1), or sooner when
``FLUSH_AT_ROWS`` rows wait, in one transaction of multi-row INSERTs.

What can be lost: only what waits here when the process is killed outright (SIGKILL, a power cut): at most
``PAGE_VIEW_FLUSH_SECONDS`` of one process's views. A normal stop (SIGTERM, a gunicorn restart, the end of a
CLI command) writes them first, also when the writer is in the middle of a write (the exit's flush waits
for it). A write that fails (the database away for a moment) keeps its rows for the next one, but a batch
that failed ``MAX_FAILED_WRITES`` times is dropped (and logged) so one bad row cannot block all others, and
at most ``MAX_PENDING_ROWS`` rows wait: beyond that new rows are dropped (and logged) rather than memory.
With ``PAGE_VIEW_FLUSH_SECONDS=0`` the records are written in the request's own transaction, as before;
the tests run so, and :func:`flush_visits` writes the waiting rows at once in the other mode.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Table, insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

FLUSH_AT_ROWS = 500  # wake the writer early when this many rows wait
# A batch that failed this often (about five minutes of flushes, longer than a database restart) is dropped:
# one row the database refuses would otherwise block every later row forever.
MAX_FAILED_WRITES = 300
MAX_PENDING_ROWS = 100_000  # while the database is away, memory must not grow without bound
EXTENSION_KEY = "portal_visit_log"


class VisitLog:
    """Rows for append-only tables (audit_events, domain_events), waiting to be written, in order."""

    def __init__(self, engine: Engine, flush_seconds: float) -> None:
        self.engine = engine
        self.flush_seconds = flush_seconds
        self._reset()
        # A forked child (a gunicorn worker) starts with no rows and fresh locks (a lock held by another thread
        # at the fork would stay held forever). The hook holds no strong reference, so an app can be collected.
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _reset_if_alive(ref))

    @property
    def writes_behind(self) -> bool:
        """True when the rows are written by the background writer, not in the request's transaction."""
        return self.flush_seconds > 0

    def _reset(self) -> None:
        # Also after a fork: the child starts with no rows (they are the parent's) and a writer of its own.
        self._pid = os.getpid()
        self._lock = threading.Lock()  # guards _pending; held only for moments
        # Held across taking the rows and writing them, so a flush at exit waits for the writer's write.
        self._flush_lock = threading.Lock()
        self._failed: list[tuple[Table, dict[str, Any]]] = []  # the batch whose write failed, tried again first
        self._failed_writes = 0
        self._dropping = False
        self._wake = threading.Event()
        self._pending: list[tuple[Table, dict[str, Any]]] = []
        self._writer: threading.Thread | None = None

    def add(self, session: Session, table: Table, row: dict[str, Any]) -> None:
        """Keep ``row`` for ``table``; without write-behind it goes into ``session`` (the caller commits)."""
        if not self.writes_behind:
            session.execute(insert(table), [row])
            return
        with self._lock:
            if len(self._pending) >= MAX_PENDING_ROWS:
                if not self._dropping:
                    log.error(
                        "page views: %d rows wait already, new rows are dropped until a write works", MAX_PENDING_ROWS
                    )
                    self._dropping = True
                return
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
        with self._flush_lock:
            with self._lock:
                new, self._pending = self._pending, []
            rows = self._failed + new
            if not rows:
                return 0
            try:
                if session is not None:
                    _insert(session, rows)
                else:
                    with Session(self.engine) as own, own.begin():
                        _insert(own, rows)
            except Exception:
                self._failed_writes += 1
                if self._failed_writes >= MAX_FAILED_WRITES:
                    log.error("page views: dropping %d rows after %d failed writes", len(rows), self._failed_writes)
                    self._failed, self._failed_writes = [], 0
                else:
                    self._failed = rows
                raise
            self._failed, self._failed_writes, self._dropping = [], 0, False
            return len(rows)

    def waiting(self) -> int:
        """How many rows wait to be written."""
        with self._lock:
            return len(self._pending) + len(self._failed)

    def _flush_at_exit(self) -> None:
        if self._pid != os.getpid():
            return  # a forked child that never wrote: the rows are its parent's
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - exiting anyway; say what is lost
            log.exception("writing page views at exit failed; %d rows are lost", self.waiting())

    def _write_forever(self) -> None:
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the writer must outlive a database that is away for a while
                log.exception("writing page views failed; %d rows wait for the next try", self.waiting())


def _reset_if_alive(ref: weakref.ref[VisitLog]) -> None:
    if (visit_log := ref()) is not None:
        visit_log._reset()  # noqa: SLF001 - the fork hook is the log's own


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
