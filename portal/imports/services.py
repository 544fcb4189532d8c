"""CSV imports of customers and invoices: check a file (the preview), import it, keep an upload as a job.

The same functions serve the staff pages, the background job and ``flask import``. An import is all or
nothing: it writes inside a SAVEPOINT that is rolled back when any row has an error, and the caller's
single commit makes it permanent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from portal.audit.services import Actor, record
from portal.imports.customers import apply_customers, read_customers
from portal.imports.invoice_rows import read_invoices
from portal.imports.invoice_writer import apply_invoices
from portal.imports.models import ImportJob
from portal.imports.parsing import FileProblem, read_table
from portal.imports.problems import Problem, Problems
from portal.imports.tally import Tally

KINDS = ("customers", "invoices")


@dataclass
class Outcome:
    """What checking or importing a file found; ``summary()`` is what the job keeps and the pages show."""

    kind: str
    encoding: str = ""
    encoding_fallback: bool = False
    delimiter: str = ""
    rows: int = 0  # data rows (invoice lines, for invoices)
    tally: Tally = field(default_factory=Tally)
    problems: Problems = field(default_factory=Problems)
    warnings: list[Problem] = field(default_factory=list)
    imported: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "encoding": self.encoding,
            "encoding_fallback": self.encoding_fallback,
            "delimiter": self.delimiter,
            "rows": self.rows,
            "counts": dict(self.tally.counts),
            "samples": self.tally.samples,
            "errors": [problem.to_json() for problem in self.problems.sorted()],
            "error_count": self.problems.count,
            "warnings": [problem.to_json() for problem in self.warnings],
            "imported": self.imported,
        }

    def audit_details(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": self.rows, **self.tally.counts, "errors": self.problems.count}


def _read(
    kind: str, content: bytes, *, zone: str, on_row: Callable[[int], None] | None = None
) -> tuple[Outcome, list[Any]]:
    """Decode and check every row on its own: no database, so no transaction (or SQLite write lock) is open yet."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    outcome = Outcome(kind)
    try:
        table = read_table(content)
    except FileProblem as error:
        outcome.problems.add_problem(error.problem)
        return outcome, []
    outcome.encoding, outcome.encoding_fallback = table.encoding, table.encoding_fallback
    outcome.delimiter = table.delimiter
    records: list[Any]
    if kind == "customers":
        records, outcome.warnings = read_customers(table, outcome.problems, on_row)
        outcome.rows = len(table.rows)
    else:
        records, outcome.rows, outcome.warnings = read_invoices(table, outcome.problems, zone=zone, on_row=on_row)
    return outcome, records


def _apply(
    session: Session,
    outcome: Outcome,
    records: list[Any],
    *,
    write: bool,
    on_progress: Callable[[int], None] | None,
    actor: Actor | None = None,
) -> None:
    """Match the checked rows against the database; with ``write`` (and no errors) write them."""
    if outcome.kind == "customers":
        outcome.tally = apply_customers(
            session, records, outcome.problems, write=write, on_progress=on_progress, actor=actor
        )
    else:
        outcome.tally = apply_invoices(session, records, outcome.problems, write=write, on_progress=on_progress)


def check_file(session: Session, kind: str, content: bytes, *, zone: str) -> Outcome:
    """The preview: what importing ``content`` would create, update and leave unchanged, and every error.

    Reads the database, writes nothing. ``zone`` is the time zone of a paid_at without a UTC offset.
    """
    outcome, records = _read(kind, content, zone=zone)
    _apply(session, outcome, records, write=False, on_progress=None)
    return outcome


def import_file(
    session: Session,
    kind: str,
    content: bytes,
    *,
    actor: Actor,
    zone: str,
    source: str,
    job_id: int | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> Outcome:
    """Import the whole file or, if any row has an error, nothing; records import.completed or import.failed.

    The writes happen in a SAVEPOINT: on errors it is rolled back and only the audit event stays. The caller
    commits. ``source`` names the file in the audit trail. ``on_progress(step, rows)`` hears how far it is: step
    "checking" (each row on its own, before any database work) and then "saving" (rows matched and written).
    """
    checking = (lambda rows: on_progress("checking", rows)) if on_progress else None
    saving = (lambda rows: on_progress("saving", rows)) if on_progress else None
    # Rows are checked before the transaction begins: on SQLite it holds the write lock until the commit.
    outcome, records = _read(kind, content, zone=zone, on_row=checking)
    if saving:
        saving(0)  # the step changes before the transaction begins, so every reader can see it
    with session.begin_nested() as savepoint:
        _apply(session, outcome, records, write=True, on_progress=saving, actor=actor)
        if not outcome.ok:
            savepoint.rollback()
    outcome.imported = outcome.ok
    record(
        session,
        actor,
        "import.completed" if outcome.ok else "import.failed",
        subject=("import_job", job_id) if job_id else None,
        file=source,
        **outcome.audit_details(),
    )
    return outcome


def create_job(session: Session, kind: str, filename: str, content: bytes, *, actor: Actor, zone: str) -> ImportJob:
    """Keep an uploaded file with its preview, so it can be imported later by any worker; the caller commits."""
    outcome = check_file(session, kind, content, zone=zone)
    job = ImportJob(
        kind=kind,
        filename=filename[:255],
        content=content,
        state="previewed",
        total_rows=outcome.rows,
        processed_rows=0,
        summary=outcome.summary(),
        created_by=actor.id or actor.type,
    )
    session.add(job)
    session.flush()
    record(
        session, actor, "import.previewed", subject=("import_job", job.id), file=job.filename, **outcome.audit_details()
    )
    return job
