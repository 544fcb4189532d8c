"""The overview as a reminder campaign loads it: 1,000 different debtors, each opening their own overview.

Set-up (not timed): a database migrated to head with the demo data (the creditor's settings), either a fresh
SQLite file or a PostgreSQL database of the bench's own (default ``bench_overview``, created when missing, its
schema ``public`` EMPTIED first), plus 1,000 customers with three open and two paid invoices each and a
personal link each. The portal runs under gunicorn with the run's settings; every debtor opens their personal
link once (``GET /p/<token>``, the log-in a reminder's link does), and the session cookie that answer sets is
kept. The timed load requests ``/overview`` with those 1,000 cookies in turn, spread over the connections.

The cookies are not updated from the answers (wrk cannot), so every request is the first page of a visit: the
access record, the visit's start and the page view are all written, the heaviest case a campaign makes.

Two figures come from the bench process itself, on the same database after the load: the SQL statements one
overview runs (counted on the engine while the Flask test client requests it), and a cProfile of 200
overviews (also through the test client, one at a time), grouped by where the time goes.

    .venv/bin/python -m bench --scenario "bare flask hello" --scenario "debtor overview, 1,000 debtors (sqlite)"
    .venv/bin/python -m bench.scenario_overview [--database-url postgresql://...] [--debtors 1000]

The PostgreSQL URL can also be set with BENCH_OVERVIEW_DATABASE_URL. The database named ``test`` (the tests')
and the server's own databases are refused.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.context import BenchContext, Settings, mask_password, progress
from bench.load import LoadResult

DEBTORS = 1_000
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bench_overview"
DATABASE_URL_VARIABLE = "BENCH_OVERVIEW_DATABASE_URL"
REFUSED_DATABASES = ("test", "postgres", "template0", "template1")
PROFILED_OVERVIEWS = 200
# Only the overview has this heading; the invalid-link page and error pages do not.
OVERVIEW_MARKER = 'id="total-heading"'


@dataclass(frozen=True)
class Debtor:
    external_ref: str
    link_path: str


# -- the database ---------------------------------------------------------------------------------------------


def postgres_url(given: str | None = None) -> str:
    return given or os.environ.get(DATABASE_URL_VARIABLE) or DEFAULT_DATABASE_URL


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def ensure_postgres_database(url: str) -> None:
    """Create the bench's PostgreSQL database when it is missing; refuse the tests' and the server's own."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in REFUSED_DATABASES:
        raise ValueError(f"refusing database {name!r}: give the bench a database of its own, e.g. bench_overview")
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            progress(f"overview: creating database {name}")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def portal_env(base_env: dict[str, str], database_url: str) -> dict[str, str]:
    env = {key: value for key, value in base_env.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=database_url,
        PORTAL_SECRET_KEY=secrets.token_urlsafe(32),
        PORTAL_BASE_URL="http://127.0.0.1",
        PORTAL_LINK_RATE_LIMIT="1000000 per minute",
    )
    return env


def fill(app: Any, count: int) -> list[Debtor]:
    """``count`` customers, each with three open invoices (one overdue) and two paid ones, and a personal link."""
    from sqlalchemy import insert

    from portal import clock
    from portal.audit.services import SYSTEM
    from portal.customers.models import Customer
    from portal.extensions import db
    from portal.invoices.models import Invoice
    from portal.links.services import create_link

    now = clock.now()
    today = now.date()
    debtors = []
    with app.app_context():
        session = db.session
        customers = [
            Customer(
                external_ref=f"CAMP-{n:05d}",
                name=f"Campaign Debtor {n}",
                email=f"debtor{n}@example.org",
                language="nl" if n % 3 else "en",
            )
            for n in range(count)
        ]
        session.add_all(customers)
        session.flush()
        rows = []
        for n, customer in enumerate(customers):
            for k, (issued_days_ago, state) in enumerate(((50, "open"), (20, "open"), (5, "open"), (80, "paid"))):
                total = 4_000 + 137 * ((n + k) % 50)
                subtotal = round(total / 1.21)
                rows.append(
                    {
                        "customer_id": customer.id,
                        "number": f"CAMP-{n:05d}-{k}",
                        "category": "energy-monthly",
                        "issue_date": today - timedelta(days=issued_days_ago),
                        "due_date": today - timedelta(days=issued_days_ago - 14),
                        "currency": "EUR",
                        "subtotal_cents": subtotal,
                        "vat_cents": total - subtotal,
                        "total_cents": total,
                        "state": state,
                        "paid_cents": total if state == "paid" else 0,
                        "paid_at": now - timedelta(days=issued_days_ago - 10) if state == "paid" else None,
                        "created_at": now,
                    }
                )
        session.execute(insert(Invoice), rows)
        for customer in customers:
            issued = create_link(session, customer, ttl_days=30, created_by="bench", actor=SYSTEM)
            debtors.append(Debtor(customer.external_ref, urlsplit(issued.url("http://127.0.0.1")).path))
        session.commit()
    return debtors


def log_in(base_url: str, debtors: list[Debtor]) -> list[str]:
    """Open every debtor's personal link once, as their reminder does; return the session cookies it set."""
    from bench.client import session_cookie

    def one(debtor: Debtor) -> str:
        return session_cookie(base_url + debtor.link_path, "portal_session", expect_location="/overview")

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, debtors))


# -- what one overview costs, in the bench process ---------------------------------------------------------------


def statements_per_overview(app: Any, debtor: Debtor) -> tuple[list[str], list[str]]:
    """The SQL statements of one overview of a debtor who has just logged in (their visit starts): those
    of the request, and those that write its page view afterwards, if the app writes page views behind
    (one such write serves every view of that moment)."""
    from sqlalchemy import event

    from portal.extensions import db

    client = app.test_client()
    client.get(debtor.link_path)
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split())[:70])

    engine = app.extensions["portal_db_engine"]
    _flush_page_views(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        reply = client.get("/overview")
        db.scoped.remove()
        in_request = list(seen)
        _flush_page_views(app)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    if reply.status_code != 200 or OVERVIEW_MARKER not in reply.get_data(as_text=True):
        raise RuntimeError(f"the overview answered {reply.status_code} in the bench process")
    return in_request, seen[len(in_request) :]


def _flush_page_views(app: Any) -> None:
    """Write any page views the app keeps for a moment (portal.debtor.visit_log), if it does that."""
    try:
        from portal.debtor.visit_log import flush_visits
    except ImportError:
        return
    with app.app_context():
        flush_visits()


def _forget_qr_codes() -> None:
    """A campaign's debtors mostly see their overview once: profile without the web process's QR code cache."""
    from portal.invoices import transfer

    cached = getattr(transfer, "_epc_qr_svg", None)
    if hasattr(cached, "cache_clear"):
        cached.cache_clear()


# Where a function's own time is counted: the first matching fragment of its file's path.
AREAS = (
    ("sqlite3", "database driver (sqlite3)"),
    ("psycopg", "database driver (psycopg)"),
    ("/sqlalchemy/", "SQLAlchemy (ORM and Core)"),
    ("/jinja2/", "Jinja2 (template rendering)"),
    ("/templates/", "Jinja2 (template rendering)"),
    ("/segno/", "QR code (segno)"),
    ("/qrcode/", "QR code"),
    ("/babel/", "Babel (formatting, translations)"),
    ("/flask_babel/", "Babel (formatting, translations)"),
    ("/werkzeug/", "Werkzeug and Flask"),
    ("/flask/", "Werkzeug and Flask"),
    ("/flask_", "Flask extensions (login, limiter, wtf)"),
    ("/limits/", "Flask extensions (login, limiter, wtf)"),
    ("/itsdangerous/", "session cookie (itsdangerous)"),
    ("/portal/", "portal code"),
)


def _area(filename: str, function: str) -> str:
    if filename == "~":  # a C function: name it by what it is a method of
        if "sqlite3" in function:
            return "database driver (sqlite3)"
        return "Python built-ins (json, hashing, strings, ...)"
    for fragment, area in AREAS:
        if fragment in filename:
            return area
    return "other Python (stdlib, dataclasses, ...)"


def profile_overviews(app: Any, debtors: list[Debtor], count: int) -> list[tuple[str, float]]:
    """(area, share of the time) of ``count`` overviews, each by a different debtor, largest first."""
    clients = []
    for debtor in debtors[:count]:
        client = app.test_client()
        client.get(debtor.link_path)
        clients.append(client)
    clients[0].get("/overview")  # the first request fills caches (templates, translations)
    _forget_qr_codes()
    profiler = cProfile.Profile()
    profiler.enable()
    for client in clients:
        client.get("/overview")
    profiler.disable()
    _flush_page_views(app)
    stats = pstats.Stats(profiler)
    own: Counter[str] = Counter()
    for (filename, _line, function), (_calls, _primitive, tottime, _cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        own[_area(filename, function)] += tottime
    total = sum(own.values()) or 1.0
    return [(area, seconds / total) for area, seconds in own.most_common()]


# -- the scenario ---------------------------------------------------------------------------------------------


def run_overview_bench(
    ctx: BenchContext, *, database: str, url: str | None = None, debtors: int = DEBTORS
) -> LoadResult:
    """``database`` is "sqlite" (a fresh file in the work folder) or "postgresql" (``url`` or the default)."""
    from bench.client import check_target
    from bench.database import flask_cli, reset_postgres_schema
    from bench.load import Target, measure
    from bench.scenarios import PORTAL_APP
    from bench.server import serve
    from portal import create_app

    if database == "sqlite":
        url = f"sqlite:///{ctx.workdir / 'overview-campaign.sqlite3'}"
        shown = "a fresh SQLite file"
    else:
        url = postgres_url(url)
        shown = mask_password(url)
        ensure_postgres_database(url)
        reset_postgres_schema(url)
        url = sqlalchemy_url(url)
    progress(f"overview: preparing {shown} (migrate, demo data, {debtors:,} debtors with a personal link each)")
    env = portal_env(ctx.base_env, url)
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "demo", "load")
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": env["PORTAL_SECRET_KEY"],
            "BASE_URL": env["PORTAL_BASE_URL"],
            "LINK_RATE_LIMIT": env["PORTAL_LINK_RATE_LIMIT"],
            # This app only counts the statements of one overview: the scheduler's lease updates are not its.
            "SCHEDULER": "off",
        }
    )
    made = fill(app, debtors)
    app.extensions["portal_db_engine"].dispose()  # no pooled connections across the load generator's fork
    with serve(PORTAL_APP, env, ctx.settings, ctx.workdir) as server:
        progress(f"overview: {len(made):,} debtors open their personal link (not timed)")
        cookies = tuple(log_in(server.url(""), made))
        target = Target(server.url("/overview"), marker=OVERVIEW_MARKER, cookies=cookies)
        check_target(replace(target, headers={"Cookie": cookies[0]}))
        result = measure(target, ctx.settings, ctx.workdir)
    result = replace(result, server_exceptions=server.exceptions())
    in_request, behind = statements_per_overview(app, made[-1])
    areas = profile_overviews(app, made, min(PROFILED_OVERVIEWS, len(made) - 1))
    app.extensions["portal_db_engine"].dispose()
    label = f"overview, {len(made):,} debtors ({database})"
    ctx.note(
        f"{label}: {len(in_request)} SQL statements in an overview request (a visit's first page): "
        f"{' | '.join(in_request)}"
        + (f"; its page view written behind with others in: {' | '.join(behind)}" if behind else "")
    )
    ctx.note(
        f"{label}: "
        f"p99 {result.p99_ms:.1f} ms (aim < 50 ms: {'met' if result.p99_ms < 50 else 'NOT met'}); "
        f"{len(cookies):,} sessions, each request the next one in turn"
    )
    top = "; ".join(f"{area} {share:.0%}" for area, share in areas[:6])
    ctx.note(f"{label}: where an overview's time goes (cProfile, own time, {PROFILED_OVERVIEWS} overviews): {top}")
    return result


def overview_sqlite(ctx: BenchContext) -> LoadResult:
    """For ``make bench``: the campaign on a fresh SQLite file."""
    return run_overview_bench(ctx, database="sqlite")


def overview_postgresql(ctx: BenchContext) -> LoadResult:
    """For ``make bench``: the campaign on the bench's own PostgreSQL database."""
    return run_overview_bench(ctx, database="postgresql")


def main(argv: list[str] | None = None) -> int:
    from bench.load import resolve_load_tool

    parser = argparse.ArgumentParser(prog="python -m bench.scenario_overview", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL (schema public EMPTIED); default: a fresh SQLite file")
    parser.add_argument("--debtors", type=int, default=DEBTORS, help=f"debtors, one session each (default {DEBTORS})")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--duration", type=int, default=10, help="measured seconds (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds (default 2)")
    args = parser.parse_args(argv)
    settings = Settings(
        workers=args.workers, worker_class="sync", threads=1, connections=args.connections, warmup_s=args.warmup,
        duration_s=args.duration, load_tool=resolve_load_tool("auto"), database_url=None, customer_ref="",
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="portal-bench-overview-") as workdir:
        ctx = BenchContext(settings, Path(workdir))
        database = "postgresql" if args.database_url else "sqlite"
        result = run_overview_bench(ctx, database=database, url=args.database_url, debtors=args.debtors)
    print(
        f"{result.good_per_s:.1f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, errors {result.errors}"
    )
    for note in ctx.notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
