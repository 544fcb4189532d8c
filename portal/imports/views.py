"""Staff pages for CSV imports: upload, preview, import in the background, follow the progress."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal import clock
from portal.extensions import csrf, db
from portal.i18n import _, _l, format_day
from portal.imports import jobs, services
from portal.imports.forms import RunForm, UploadForm
from portal.imports.models import ImportJob
from portal.imports.problems import Problem, describe
from portal.staff.auth import staff_actor
from portal.staff.permissions import Permission, requires

bp = Blueprint("imports", __name__, url_prefix="/staff/imports")

# Files up to this size may be uploaded here (100,000 invoice lines are about 11 MB), although the rest of
# the application keeps Flask's smaller MAX_CONTENT_LENGTH.
MAX_UPLOAD_BYTES = 40 * 1024 * 1024
RECENT_JOBS = 20
# A job still waiting or running after this long, and not running in this process, was cut off by a restart.
STALE_AFTER = timedelta(minutes=30)
KIND_NAMES = {"customers": _l("Customers"), "invoices": _l("Invoices")}
STATE_NAMES = {
    "previewed": _l("Checked, not imported"),
    "queued": _l("Waiting"),
    "running": _l("Importing"),
    "done": _l("Imported"),
    "failed": _l("Not imported"),
}


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "kind_name": lambda kind: str(KIND_NAMES.get(kind, kind)),
        "state_name": lambda state: str(STATE_NAMES.get(state, state)),
        "iso_day": lambda text: format_day(date.fromisoformat(text), "medium"),
    }


@bp.get("/")
@requires(Permission.RUN_IMPORTS)
def index() -> Any:
    return _index_page(UploadForm())


def _index_page(form: UploadForm, status: int = 200) -> Any:
    recent = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(RECENT_JOBS)).all()
    return render_template("staff/imports/index.html", form=form, jobs=recent, max_mb=MAX_UPLOAD_BYTES // 2**20), status


@bp.post("/")
@csrf.exempt
@requires(Permission.RUN_IMPORTS)
def upload() -> Any:
    # The larger limit must be set before the form is read, and CSRFProtect reads it before any view
    # runs; so this one view checks the CSRF token itself, with the same check, once the limit is raised.
    request.max_content_length = MAX_UPLOAD_BYTES
    if (request.content_length or 0) > MAX_UPLOAD_BYTES:
        form = UploadForm(formdata=None)
        form.form_errors.append(
            _("The file is larger than %(mb)s MB. Import it in parts.", mb=MAX_UPLOAD_BYTES // 2**20)
        )
        return _index_page(form, 413)
    csrf.protect()
    form = UploadForm()
    if not form.validate_on_submit():
        return _index_page(form)
    uploaded = form.file.data
    job = services.create_job(
        db.session,
        form.kind.data or "",
        uploaded.filename or "upload.csv",
        uploaded.read(),
        actor=staff_actor(),
        zone=current_app.config["DEFAULT_TIMEZONE"],
    )
    db.session.commit()
    return redirect(url_for("imports.show", job_id=job.id))


@bp.get("/<int:job_id>")
@requires(Permission.RUN_IMPORTS)
def show(job_id: int) -> str:
    job = _job_or_404(job_id)
    return render_template("staff/imports/job.html", job=job, form=RunForm(), **_status(job), **_report(job))


@bp.get("/<int:job_id>/progress")
@requires(Permission.RUN_IMPORTS)
def progress(job_id: int) -> Response:
    """The progress fragment htmx polls; once the job has ended the whole page reloads to show the result."""
    job = _job_or_404(job_id)
    status = _status(job)
    response = make_response(render_template("staff/imports/_progress.html", job=job, **status))
    if not status["in_progress"] and request.headers.get("HX-Request"):
        response.headers["HX-Refresh"] = "true"
    return response


@bp.post("/<int:job_id>/run")
@requires(Permission.RUN_IMPORTS)
def run(job_id: int) -> Response:
    job = _job_or_404(job_id)
    form = RunForm()
    runnable = (job.summary or {}).get("error_count") == 0
    if form.validate_on_submit() and runnable and jobs.queue_job(db.session, job.id):
        db.session.commit()
        jobs.start_import_job(job.id, staff_actor())
    elif not runnable:
        flash(_("This file has errors, so it cannot be imported. Correct the file and upload it again."), "error")
    return redirect(url_for("imports.show", job_id=job.id))


def _job_or_404(job_id: int) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    if job is None:
        abort(404)
    return job


def _status(job: ImportJob) -> dict[str, Any]:
    """Where the job is: waiting or running (with the step and rows done, from its row), or ended.

    Everything comes from the job's row, so whichever web worker answers shows the same progress.
    """
    started = job.started_at or job.created_at
    stale = (
        job.state in ("queued", "running") and not jobs.is_running_here(job.id) and clock.now() - started > STALE_AFTER
    )
    in_progress = job.state in ("queued", "running") and not stale
    total = job.total_rows or 0
    step = (job.progress_step or "") if job.state == "running" else ""
    done = min(job.processed_rows, total)
    # Two steps of equal weight on one bar: checking every row, then saving them.
    reached = done + (total if step == "saving" else 0)
    return {
        "in_progress": in_progress,
        "stale": stale,
        "step": step,
        "rows_done": done,
        "bar_value": reached,
        "bar_max": 2 * total or 1,
        "percent": int(50 * reached / total) if total else 0,
    }


def _report(job: ImportJob) -> dict[str, Any]:
    summary = job.summary or {}
    errors = [_shown(Problem.from_json(item)) for item in summary.get("errors", [])]
    warnings = [_shown(Problem.from_json(item)) for item in summary.get("warnings", [])]
    delimiter_names = {";": _("semicolons"), ",": _("commas"), "\t": _("tabs")}
    return {
        "summary": summary,
        "errors": errors,
        "error_count": summary.get("error_count", 0),
        "warnings": warnings,
        "counts": summary.get("counts", {}),
        "samples": summary.get("samples", {}),
        "delimiter_name": delimiter_names.get(summary.get("delimiter", ""), ""),
    }


def _shown(problem: Problem) -> dict[str, Any]:
    return {"row": problem.row, "column": problem.column, "message": describe(problem)}
