"""Running an uploaded import in the background, with progress in the job's row that any web worker can show.

With PORTAL_CELERY_BROKER_URL set, ``start_import_job`` queues the Celery task ``portal.run_import`` and a
worker runs it; without a broker it runs in a thread of this web process. Either way ``run_import_job``
does the work, with its own database session, and keeps the step and the rows done in the job's row.

The import itself is one transaction. Rows are checked before it begins, so that step's progress is simply
committed. While the rows are saved, the transaction is open: on PostgreSQL the progress goes in over a
second connection; on SQLite, which has one writer at a time, the row says "saving" until the import ends.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app
from sqlalchemy import Connection, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, undefer

from portal import clock
from portal.audit.services import Actor, record
from portal.extensions import db
from portal.imports.models import ImportJob
from portal.imports.problems import Problem
from portal.imports.services import import_file

log = logging.getLogger(__name__)

_threads: dict[int, threading.Thread] = {}
_lock = threading.Lock()


def is_running_here(job_id: int) -> bool:
    """Whether the job runs in a thread of this process (no broker configured)."""
    with _lock:
        thread = _threads.get(job_id)
    return thread is not None and thread.is_alive()


def queue_job(session: Session, job_id: int) -> bool:
    """Mark a previewed job as queued; False when it was not waiting (imported already, or a double click).

    One conditional UPDATE, so two clicks at the same moment cannot both start the import. The caller commits.
    """
    result = session.execute(
        update(ImportJob).where(ImportJob.id == job_id, ImportJob.state == "previewed").values(state="queued"),
        execution_options={"synchronize_session": False},
    )
    return bool(getattr(result, "rowcount", 0))


def start_import_job(job_id: int, actor: Actor | None = None) -> threading.Thread | None:
    """Run the (committed, queued) job: as a Celery task when a broker is configured, else in a thread here.

    Returns the thread, or None when a worker will run the job.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    celery = app.extensions.get("portal_celery")
    if celery is not None:
        try:
            celery.send_task("portal.run_import", args=[job_id, actor.type if actor else None, actor and actor.id])
            return None
        except Exception:  # noqa: BLE001 - the job is committed as queued; run it here rather than not at all
            app.logger.exception("could not hand import job %s to the broker; running it in this process", job_id)
    thread = threading.Thread(target=_run_in_app, args=(app, job_id, actor), name=f"import-{job_id}", daemon=True)
    with _lock:
        _threads[job_id] = thread
    thread.start()
    return thread


def _run_in_app(app: Flask, job_id: int, actor: Actor | None) -> None:
    try:
        with app.app_context():
            run_import_job(job_id, actor)
    finally:
        with _lock:
            _threads.pop(job_id, None)


class ProgressWriter:
    """Keeps the step and the rows done in the job's row, committed, where every web worker reads it."""

    def __init__(self, session: Session, job_id: int) -> None:
        self.session = session
        self.job_id = job_id

    def __call__(self, step: str, rows: int) -> None:
        change = update(ImportJob).where(ImportJob.id == self.job_id).values(progress_step=step, processed_rows=rows)
        if not self.session.in_transaction():
            # Checking, before the import's transaction: nothing is open, so commit the progress as it is.
            self.session.execute(change)
            self.session.commit()
            return
        bind = self.session.get_bind()
        engine = bind.engine if isinstance(bind, Connection) else bind
        if engine.dialect.name != "postgresql":
            return  # SQLite: the import holds the only write lock until it commits
        try:
            with engine.connect() as side:
                # The import never locks its job row before it ends; should it ever, skip rather than wait on it.
                side.execute(text("SET LOCAL lock_timeout = '2s'"))
                side.execute(change)
                side.commit()
        except DBAPIError as error:
            log.info("import job %s: progress not recorded: %s", self.job_id, type(error).__name__)


def run_import_job(job_id: int, actor: Actor | None = None) -> None:
    """Import a queued job's file (needs an app context). All or nothing; the job ends as done or failed.

    ``actor`` is who pressed Import; by default the staff member who uploaded the file.
    """
    session = db.session
    # Claimed in one conditional UPDATE, before anything is read: two runners of one job (a broker that took the
    # task although sending it raised, so this process runs it too) cannot both start it; the loser does nothing.
    claimed = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.state.in_(("previewed", "queued")))
        .values(state="running", started_at=clock.now(), progress_step="checking", processed_rows=0),
        execution_options={"synchronize_session": False},
    )
    if not getattr(claimed, "rowcount", 0):
        session.rollback()
        return
    session.commit()
    job = session.get(ImportJob, job_id, options=[undefer(ImportJob.content)], populate_existing=True)
    # Nothing stays open while the rows are checked, so their progress is committed as it goes (the session
    # keeps the loaded job after a commit).
    session.commit()
    if job is None:  # pragma: no cover - the job row is never deleted
        return
    actor = actor or Actor(type="staff", id=job.created_by)

    try:
        outcome = import_file(
            session,
            job.kind,
            job.content,
            actor=actor,
            zone=current_app.config["DEFAULT_TIMEZONE"],
            source=job.filename,
            job_id=job.id,
            on_progress=ProgressWriter(db.scoped(), job.id),  # the Session itself: it can say if it is in a transaction
        )
        job.summary = outcome.summary()
        job.processed_rows = outcome.rows if outcome.ok else 0
        job.progress_step = None
        job.state = "done" if outcome.ok else "failed"
        job.finished_at = clock.now()
        session.commit()
    except Exception:
        log.exception("import job %s stopped", job_id)
        session.rollback()
        _fail(job_id, actor)


def _fail(job_id: int, actor: Actor) -> None:
    """Record an import that stopped on an unexpected error: nothing of it was written."""
    session = db.session
    job = session.get(ImportJob, job_id)
    if job is None:  # pragma: no cover - the job row is never deleted
        return
    summary = dict(job.summary or {})
    summary["errors"] = [Problem(None, None, "unexpected").to_json()]
    summary["error_count"] = 1
    job.summary, job.state, job.failure, job.finished_at = summary, "failed", "unexpected", clock.now()
    job.processed_rows, job.progress_step = 0, None
    record(session, actor, "import.failed", subject=("import_job", job_id), file=job.filename, kind=job.kind, errors=1)
    session.commit()
