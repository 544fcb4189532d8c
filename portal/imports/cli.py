"""``flask --app portal import customers FILE`` and ``import invoices FILE``: the same import as the staff page."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.audit.services import Actor
from portal.extensions import db
from portal.i18n import force_locale
from portal.imports.problems import Problem, describe
from portal.imports.services import Outcome, check_file, import_file

CLI_ACTOR = Actor(type="system", id="cli")
DELIMITER_NAMES = {";": "semicolons", ",": "commas", "\t": "tabs"}

import_cli = AppGroup("import", help="Import customers or invoices from a CSV file (see docs/imports.md).")

file_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
dry_run_option = click.option("--dry-run", is_flag=True, help="Only check the file and show what would change.")


@import_cli.command("customers")
@file_argument
@dry_run_option
def import_customers(file: Path, dry_run: bool) -> None:
    """Create or update customers, matched by external_ref. A file with any error imports nothing."""
    _run("customers", file, dry_run)


@import_cli.command("invoices")
@file_argument
@dry_run_option
def import_invoices(file: Path, dry_run: bool) -> None:
    """Create or update invoices with their lines (one row per line), matched by invoice_number."""
    _run("invoices", file, dry_run)


def _run(kind: str, path: Path, dry_run: bool) -> None:
    content = path.read_bytes()
    zone = current_app.config["DEFAULT_TIMEZONE"]
    started = time.perf_counter()
    if dry_run:
        outcome = check_file(db.session, kind, content, zone=zone)
    else:
        outcome = import_file(db.session, kind, content, actor=CLI_ACTOR, zone=zone, source=path.name)
    db.session.commit()  # the data (all of it, or none) and the audit event
    seconds = time.perf_counter() - started
    # Operators read the terminal in English, like every other flask command's output.
    with force_locale("en"):
        click.echo(report(outcome, path.name, seconds, dry_run=dry_run))
    if not outcome.ok:
        raise SystemExit(1)


def report(outcome: Outcome, name: str, seconds: float, *, dry_run: bool) -> str:
    """What a terminal user needs: how the file was read, the counts, warnings and errors."""
    lines = []
    if outcome.encoding:
        separator = DELIMITER_NAMES.get(outcome.delimiter, repr(outcome.delimiter))
        lines.append(f"Read {name} as {outcome.encoding}, separated by {separator}.")
    counts = outcome.tally.counts
    rows = "lines" if outcome.kind == "invoices" else "rows"
    done = "Imported" if outcome.ok and not dry_run else "Checked"
    lines.append(
        f"{done} {outcome.kind}: {counts['created']} new, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged ({outcome.rows} {rows}, {seconds:.2f} s)."
    )
    lines += [f"Warning: {_where(problem)}{describe(problem)}" for problem in outcome.warnings]
    if not outcome.ok:
        lines += [f"Error: {_where(problem)}{describe(problem)}" for problem in outcome.problems.sorted()]
        hidden = outcome.problems.count - len(outcome.problems.listed)
        if hidden:
            lines.append(f"... and {hidden} more errors.")
        lines.append(f"{outcome.problems.count} error(s): nothing was imported. Correct the file and run again.")
    elif dry_run:
        lines.append("Dry run: nothing was imported.")
    return "\n".join(lines)


def _where(problem: Problem) -> str:
    parts = []
    if problem.row:
        parts.append(f"row {problem.row}")
    if problem.column:
        parts.append(f"column {problem.column}")
    return (", ".join(parts) + ": ") if parts else ""
