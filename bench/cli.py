"""Command line of ``python -m bench``: parse the options, run the scenarios, print and save the report."""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench.context import PROJECT_ROOT, BenchContext, Settings, progress
from bench.load import LoadResult, load_tool_version, resolve_load_tool
from bench.report import compare, format_report, to_json, write_json
from bench.scenarios import COMPARISONS, SCENARIOS

DEFAULT_OUTPUT = PROJECT_ROOT / "bench-results" / "latest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [scenario.name for scenario in SCENARIOS]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per scenario (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per scenario, not measured (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (default sync)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (default 1)")
    parser.add_argument("--load-tool", choices=["auto", "wrk", "python"], default="auto", help="default: wrk if found")
    parser.add_argument("--database-url", help="benchmark on this PostgreSQL database (its schema public is REPLACED)")
    parser.add_argument("--customer", default="C-1001", help="demo customer whose overview is requested")
    parser.add_argument("--scenario", action="append", choices=names, help="run only this scenario (repeatable)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.workers, args.threads) < 1 or args.warmup < 0:
        parser.error("--duration, --connections, --workers and --threads must be at least 1, --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenarios one after another; exit 1 if any of them could not run, 130 on Ctrl-C."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so the servers are stopped on SIGTERM too
    try:
        return run(args)
    except KeyboardInterrupt:
        progress("interrupted; every server it started has been stopped")
        return 130


def run(args: argparse.Namespace) -> int:
    """Run the scenarios chosen on the command line, print the report and write the JSON file."""
    settings = Settings(
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        connections=args.connections,
        warmup_s=args.warmup,
        duration_s=args.duration,
        load_tool=resolve_load_tool(args.load_tool),
        database_url=args.database_url,
        customer_ref=args.customer,
    )
    started = datetime.now(UTC)
    results: dict[str, LoadResult] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as workdir:
        context = BenchContext(settings, Path(workdir))
        for scenario in SCENARIOS:
            if args.scenario and scenario.name not in args.scenario:
                continue
            progress(f"running {scenario.name!r}: {settings.warmup_s} s warm-up, {settings.duration_s} s measured")
            try:
                results[scenario.name] = scenario.run(context)
            except Exception as error:  # noqa: BLE001 - one broken scenario should not hide the others
                failed.append(scenario.name)
                context.note(f"scenario {scenario.name!r} failed: {error}")
    compared = compare(results, COMPARISONS)
    for comparison in COMPARISONS:
        if comparison.numerator in results and comparison.denominator not in results:
            context.note(f"{comparison.label}: not compared, {comparison.denominator!r} did not run")
    header = run_header(settings, started)
    print(format_report(header, results, compared, context.notes))
    write_json(args.output, to_json(header, settings.describe(), results, compared, context.notes))
    print(f"results written to {_shown_path(args.output)}")
    failed_checks = [name for name, result in results.items() if result.failed_checks]
    if failed_checks:
        progress(f"CHECKS FAILED in {', '.join(failed_checks)}: see the report; exit 1")
    return 1 if failed or failed_checks else 0


def run_header(settings: Settings, started: datetime) -> dict[str, Any]:
    """The settings and the machine, as shown above the table."""
    from gunicorn import __version__ as gunicorn_version

    threads = f", {settings.threads} threads" if settings.threads > 1 else ""
    return {
        "started": started.isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "server": f"gunicorn {gunicorn_version}, {settings.workers} workers ({settings.worker_class}{threads}), "
        "127.0.0.1, the same for every scenario",
        "load": f"{load_tool_version(settings.load_tool)}, {settings.connections} connections",
        "timing": f"{settings.warmup_s} s warm-up + {settings.duration_s} s measured per scenario",
        "database": settings.describe()["database_url"],
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()} (load and server share the cores)",
    }


def _git_commit() -> str:
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{commit} (with local changes)" if _git("status", "--porcelain") else commit


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _exit_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(143)
