"""Running an uploaded import in the background, with progress the job page can show.

There is no task queue yet, so ``start_import_job`` runs ``run_import_job`` in a thread of the web process
with its own database session; a task queue can later call ``run_import_job(job_id)`` as it is.

Progress lives in memory in this process: the import is one transaction, and on SQLite a second writer
(for a progress row) would wait for that transaction's write lock. The job row gets ``processed_rows``
when the import ends; the job page reads the in-memory value while the job runs here.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app
from sqlalchemy import update
from sqlalchemy.orm import Session, undefer

from portal import clock
from portal.audit.services import Actor, record
from portal.extensions import db
from portal.imports.models import ImportJob
from portal.imports.problems import Problem
from portal.imports.services import import_file

log = logging.getLogger(__name__)

# job id -> (step, rows): step is "checking" (rows read and checked) or "saving" (rows matched and written).
_progress: dict[int, tuple[str, int]] = {}
_threads: dict[int, threading.Thread] = {}
_lock = threading.Lock()


def progress_here(job_id: int) -> tuple[str, int] | None:
    """The step and the rows done in it, when the job is running in this process; else None."""
    with _lock:
        return _progress.get(job_id)


def is_running_here(job_id: int) -> bool:
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


def start_import_job(job_id: int, actor: Actor | None = None) -> threading.Thread:
    """Run the (committed, queued) job in a background thread of this process and return the thread."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(target=_run_in_app, args=(app, job_id, actor), name=f"import-{job_id}", daemon=True)
    with _lock:
        _progress[job_id] = ("checking", 0)
        _threads[job_id] = thread
    thread.start()
    return thread


def _run_in_app(app: Flask, job_id: int, actor: Actor | None) -> None:
    try:
        with app.app_context():
            run_import_job(job_id, actor)
    finally:
        with _lock:
            _progress.pop(job_id, None)
            _threads.pop(job_id, None)


def run_import_job(job_id: int, actor: Actor | None = None) -> None:
    """Import a queued job's file (needs an app context). All or nothing; the job ends as done or failed.

    ``actor`` is who pressed Import; by default the staff member who uploaded the file.
    """
    session = db.session
    job = session.get(ImportJob, job_id, options=[undefer(ImportJob.content)])
    if job is None or job.state not in ("previewed", "queued"):
        return
    actor = actor or Actor(type="staff", id=job.created_by)
    job.state, job.started_at = "running", clock.now()
    session.commit()

    def report(step: str, rows: int) -> None:
        with _lock:
            if job_id in _progress:
                _progress[job_id] = (step, rows)

    try:
        outcome = import_file(
            session,
            job.kind,
            job.content,
            actor=actor,
            zone=current_app.config["DEFAULT_TIMEZONE"],
            source=job.filename,
            job_id=job.id,
            on_progress=report,
        )
        job.summary = outcome.summary()
        job.processed_rows = outcome.rows if outcome.ok else 0
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
    job.processed_rows = 0
    record(session, actor, "import.failed", subject=("import_job", job_id), file=job.filename, kind=job.kind, errors=1)
    session.commit()
