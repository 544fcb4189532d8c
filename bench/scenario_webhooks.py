"""Webhook confirmations per second: concurrent senders POST Mollie webhooks to the portal on PostgreSQL.

Set-up (not timed): a PostgreSQL database of the bench's own (default ``bench_webhooks``, created when missing,
its schema ``public`` EMPTIED and migrated to head), the Mollie stand-in of the tests (tests/fixtures/
mollie_standin.py) running in this process, and per payment one customer with one open invoice, a payment
created at the stand-in through the real SDK, our Payment row ("open", provider "mollie") with that id, and
the stand-in's payment set to "paid". The portal runs under gunicorn as in the other scenarios, pointed at
the stand-in (PORTAL_MOLLIE_API_ENDPOINT, a ``test_`` key, PORTAL_DEMO_PAYMENTS=off).

Load: every payment's webhook (``id=tr_...``) is POSTed twice, the copy a few places later in the order so
the two often race for the payment's row lock; the deliveries are dealt round-robin to ``--connections``
senders (threads, spread over one process per core, so they do not compete with the stand-in for this
process's GIL). A fixed amount of work, not a time window: the figure is payments that turned paid divided by
the seconds from the common start to the last answer. A warm-up batch of payments goes first, unmeasured.

Afterwards the database is checked: every payment paid exactly once, every invoice paid in full once, one
allocation per payment, one receipt e-mail per payment; and every webhook answered 200 after one re-fetch.

    .venv/bin/python -m bench --scenario "bare flask hello" --scenario "webhook confirmations (postgresql)"
    .venv/bin/python -m bench.scenario_webhooks [--database-url postgresql://...] [--payments 2000]

The database URL can also be set with BENCH_WEBHOOKS_DATABASE_URL. The database named ``test`` (the tests')
and the server's own databases are refused.
"""

from __future__ import annotations

import argparse
import http.client
import math
import multiprocessing
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from bench.context import PROJECT_ROOT, BenchContext, Settings, mask_password, progress
from bench.load import Check, LoadResult

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bench_webhooks"
DATABASE_URL_VARIABLE = "BENCH_WEBHOOKS_DATABASE_URL"
REFUSED_DATABASES = ("test", "postgres", "template0", "template1")
PAYMENTS = 2_000  # measured
WARMUP_PAYMENTS = 200  # sent first, not measured (skipped with --warmup 0); checked like the others
COPIES = 2  # every webhook is delivered this many times
WEBHOOK_PATH = "/webhooks/mollie"
START_DELAY_S = 0.5  # time for the sender processes to start before the common start
SEED = 20261123


@dataclass(frozen=True)
class Sent:
    """One webhook request as a sender saw it; ``outcome`` is None for a 200 "ok"."""

    external_id: str
    began: float  # time.monotonic(), shared by all processes
    ended: float
    outcome: str | None


@dataclass(frozen=True)
class BenchPayment:
    id: int
    external_id: str
    measured: bool


# -- the database ---------------------------------------------------------------------------------------------


def database_url(given: str | None = None) -> str:
    return given or os.environ.get(DATABASE_URL_VARIABLE) or DEFAULT_DATABASE_URL


def prepare_database(url: str) -> str:
    """Create the database if missing, empty its schema ``public``, migrate it; return the SQLAlchemy URL."""
    import psycopg
    from psycopg import sql

    from bench.database import reset_postgres_schema
    from portal.migrate import upgrade_to_head

    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise ValueError("the webhook scenario needs a postgresql:// URL")
    name = parts.path.lstrip("/")
    if not name or name in REFUSED_DATABASES:
        raise ValueError(f"refusing database {name!r}: give the bench a database of its own, e.g. bench_webhooks")
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            progress(f"webhooks: creating database {name}")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    reset_postgres_schema(url)
    sqlalchemy_url = "postgresql+psycopg://" + url.split("://", 1)[1]
    upgrade_to_head(sqlalchemy_url)
    return sqlalchemy_url


def fill(engine: Any, standin: Any, count: int, warmup: int) -> list[BenchPayment]:
    """Customers, open invoices and open Mollie payments (``warmup`` + ``count``), paid at the stand-in."""
    from mollie.api.client import Client
    from sqlalchemy import insert, text
    from sqlalchemy.orm import Session

    from portal.customers.models import Customer
    from portal.invoices.models import Invoice
    from portal.payments.models import Payment, PaymentItem

    rng = random.Random(SEED)
    now = datetime.now(UTC)
    issue = now.date() - timedelta(days=10)
    client = Client(api_endpoint=standin.api_endpoint, timeout=10, retry=1)
    client.set_api_key(standin.api_key)
    customers, invoices, payments, items, made = [], [], [], [], []
    try:
        for n in range(1, warmup + count + 1):
            subtotal = rng.randrange(2_000, 40_000)
            vat = subtotal * 21 // 100
            total = subtotal + vat
            number = f"WH{n:07d}"
            customers.append(
                {"id": n, "external_ref": f"WH-C{n:06d}", "name": f"Webhook Klant {n}",
                 "email": f"klant{n}@example.nl", "language": "nl", "kind": "consumer", "country": "NL",
                 "time_zone": "Europe/Amsterdam", "created_at": now}
            )  # fmt: skip
            invoices.append(
                {"id": n, "customer_id": n, "number": number, "category": "general", "issue_date": issue,
                 "due_date": issue + timedelta(days=14), "currency": "EUR", "subtotal_cents": subtotal,
                 "vat_cents": vat, "total_cents": total, "state": "open", "paid_cents": 0, "created_at": now}
            )  # fmt: skip
            mollie_payment = client.payments.create(
                {
                    "amount": {"currency": "EUR", "value": f"{total // 100}.{total % 100:02d}"},
                    "description": f"Factuur {number}",
                    "redirectUrl": f"http://127.0.0.1/payments/return/{n}",
                    "method": "ideal",
                    "locale": "nl_NL",
                    "metadata": {"payment_id": n, "customer_ref": f"WH-C{n:06d}"},
                },
                idempotency_key=f"payment-{n}",
            )
            payments.append(
                {"id": n, "public_id": secrets.token_urlsafe(16), "customer_id": n, "provider": "mollie",
                 "method": "ideal", "state": "open", "currency": "EUR", "amount_cents": total, "received_cents": 0,
                 "reversed_cents": 0, "unallocated_cents": 0, "external_id": mollie_payment.id,
                 "checkout_url": mollie_payment.checkout_url, "locale": "nl", "created_at": now, "updated_at": now}
            )  # fmt: skip
            items.append({"payment_id": n, "invoice_id": n, "position": 0, "outstanding_cents": total})
            made.append(BenchPayment(n, mollie_payment.id, measured=n > warmup))
    finally:
        session_of_sdk = getattr(client, "_client", None)
        if session_of_sdk is not None:
            session_of_sdk.close()
    with Session(engine) as session:
        for model, rows in ((Customer, customers), (Invoice, invoices), (Payment, payments), (PaymentItem, items)):
            for start in range(0, len(rows), 5_000):
                session.execute(insert(model), rows[start : start + 5_000])
        for table in ("customers", "invoices", "payments"):  # the ids were given: move the sequences past them
            session.execute(
                text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"), {"table": table, "last": len(made)}
            )
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
    for payment in made:
        standin.set_status(payment.external_id, "paid")
    return made


def check_database(engine: Any, expected: int) -> list[Check]:
    """What the load left in the database, for all ``expected`` bench payments (warm-up included)."""
    from sqlalchemy import text

    def row(query: str) -> Any:
        with engine.connect() as connection:
            return connection.execute(text(query)).one()

    payments = row(
        "SELECT count(*), count(*) FILTER (WHERE state = 'paid'),"
        " count(*) FILTER (WHERE state = 'paid' AND received_cents = amount_cents AND unallocated_cents = 0)"
        " FROM payments"
    )
    paid_events = row(
        "SELECT count(*), count(DISTINCT subject_id) FROM domain_events"
        " WHERE kind = 'payment.paid' AND subject_type = 'payment'"
    )
    invoices = row(
        "SELECT count(*), count(*) FILTER (WHERE state = 'paid' AND paid_cents = total_cents AND paid_at IS NOT NULL)"
        " FROM invoices"
    )
    allocations = row(
        "SELECT count(*), count(DISTINCT a.payment_id), count(DISTINCT a.invoice_id),"
        " count(*) FILTER (WHERE a.amount_cents = i.total_cents AND a.reversal_id IS NULL"
        " AND it.invoice_id IS NOT NULL)"
        " FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id"
        " LEFT JOIN payment_items it ON it.payment_id = a.payment_id AND it.invoice_id = a.invoice_id"
    )
    receipts = row(
        "SELECT count(*), count(DISTINCT customer_id), count(*) FILTER (WHERE state = 'held')"
        " FROM outbox_messages WHERE template = 'payment_receipt'"
    )
    return [
        Check(
            "every payment paid exactly once",
            tuple(payments) == (expected,) * 3 and tuple(paid_events) == (expected,) * 2,
            f"{payments[1]} of {payments[0]} payments paid ({expected} expected), {payments[2]} with the full amount "
            f"and no credit left; {paid_events[0]} payment.paid events for {paid_events[1]} payments",
        ),
        Check(
            "every invoice paid once",
            tuple(invoices) == (expected, expected),
            f"{invoices[1]} of {invoices[0]} invoices paid in full",
        ),
        Check(
            "exactly one allocation per payment",
            tuple(allocations) == (expected,) * 4,
            f"{allocations[0]} allocations for {allocations[1]} payments and {allocations[2]} invoices, "
            f"{allocations[3]} of them the whole invoice of the payment's own item",
        ),
        Check(
            "one receipt per payment",
            tuple(receipts[:2]) == (expected, expected),
            f"{receipts[0]} receipt e-mails for {receipts[1]} customers ({receipts[2]} held: no SMTP configured)",
        ),
    ]


# -- the senders ----------------------------------------------------------------------------------------------


def delivery_order(external_ids: list[str], senders: int, copies: int = COPIES, seed: int = SEED) -> list[str]:
    """Each id ``copies`` times; a copy follows up to ``2 * senders`` places later, so it is often in flight
    together with the first delivery (both race for the row lock), and sometimes arrives after it is done."""
    rng = random.Random(seed)
    keyed: list[tuple[float, str]] = []
    for position, external_id in enumerate(external_ids):
        keyed.append((float(position), external_id))
        keyed += [(position + rng.uniform(0, 2 * senders), external_id) for _ in range(copies - 1)]
    keyed.sort(key=lambda pair: pair[0])
    return [external_id for _, external_id in keyed]


def send_webhooks(url: str, order: list[str], senders: int) -> tuple[list[Sent], float]:
    """Deal ``order`` round-robin to ``senders`` connections and send it all; returns what was sent and the start.

    The connections are threads spread over one process per core (forked, as in bench.pyload).
    """
    parts = urlsplit(url)
    lanes = [order[k::senders] for k in range(senders)]
    processes = max(1, min(senders, os.cpu_count() or 1))
    groups = [lanes[j::processes] for j in range(processes)]
    start = time.monotonic() + START_DELAY_S
    jobs = [(parts.hostname or "127.0.0.1", parts.port or 80, group, start) for group in groups]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.starmap(_process_main, jobs)
    return [sent for result in results for sent in result], start


def _process_main(host: str, port: int, lanes: list[list[str]], start: float) -> list[Sent]:
    outputs: list[list[Sent]] = [[] for _ in lanes]
    threads = [
        threading.Thread(target=_lane, args=(host, port, lane, start, output), daemon=True)
        for lane, output in zip(lanes, outputs, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [sent for output in outputs for sent in output]


def _lane(host: str, port: int, lane: list[str], start: float, output: list[Sent]) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    time.sleep(max(0.0, start - time.monotonic()))
    for external_id in lane:
        body = urlencode({"id": external_id}).encode()
        began = time.monotonic()
        outcome = _post(connection, body)
        output.append(Sent(external_id, began, time.monotonic(), outcome))
    connection.close()


def _post(connection: http.client.HTTPConnection, body: bytes) -> str | None:
    """POST one webhook as Mollie does (a form body); None for a 200 "ok", else what was wrong. No retries."""
    try:
        connection.request(
            "POST", WEBHOOK_PATH, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        response = connection.getresponse()
        answer = response.read()
        if response.will_close:
            connection.close()  # gunicorn's sync worker answers "Connection: close"; the next request reconnects
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        time.sleep(0.01)
        return type(error).__name__
    if response.status != 200:
        return str(response.status)
    return None if answer == b"ok\n" else "200 without ok"


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[max(1, math.ceil(pct / 100 * len(sorted_values))) - 1]


def _overlapping_pairs(sent: list[Sent]) -> int:
    """Payments whose deliveries were in flight at the same moment (the row lock decided between them)."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for item in sent:
        spans.setdefault(item.external_id, []).append((item.began, item.ended))
    return sum(1 for pairs in spans.values() if len(pairs) > 1 and max(b for b, _ in pairs) < min(e for _, e in pairs))


# -- the scenario ---------------------------------------------------------------------------------------------


def run_webhook_bench(
    ctx: BenchContext, *, url: str | None = None, payments: int = PAYMENTS, warmup: int | None = None
) -> LoadResult:
    from sqlalchemy import func, select

    from bench.client import check_target
    from bench.load import Target
    from bench.scenarios import PORTAL_APP
    from bench.server import serve
    from portal.db import make_engine
    from portal.payments.models import Payment

    # tests/ is plain Python on the project root; the stand-in is used as it is, not copied.
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from tests.fixtures.mollie_standin import MollieStandIn

    settings = ctx.settings
    warmup = (WARMUP_PAYMENTS if settings.warmup_s > 0 else 0) if warmup is None else warmup
    url = database_url(url)
    shown_url = mask_password(url)
    progress(f"webhooks: preparing {shown_url} (schema public emptied, migrated)")
    sqlalchemy_url = prepare_database(url)
    standin = MollieStandIn()
    standin.start()
    engine = make_engine(sqlalchemy_url)
    try:
        progress(f"webhooks: {warmup + payments:,} customers, invoices and Mollie payments (paid at the stand-in)")
        made = fill(engine, standin, payments, warmup)
        engine.dispose()  # no pooled connections across the senders' fork
        env = {key: value for key, value in ctx.base_env.items() if not key.startswith("PORTAL_")}
        env.update(
            PORTAL_DATABASE_URL=sqlalchemy_url,
            PORTAL_SECRET_KEY=secrets.token_urlsafe(32),
            PORTAL_BASE_URL="http://127.0.0.1",
            PORTAL_MOLLIE_API_KEY=standin.api_key,
            PORTAL_MOLLIE_API_ENDPOINT=standin.api_endpoint,
            PORTAL_DEMO_PAYMENTS="off",
        )
        senders = settings.connections
        with serve(PORTAL_APP, env, settings, ctx.workdir) as server:
            check_target(Target(server.url("/healthz"), marker='"ok"'))
            asked_before = len(standin.requests)
            warm_ids = [payment.external_id for payment in made if not payment.measured]
            warm_sent: list[Sent] = []
            if warm_ids:
                progress(f"webhooks: warm-up, {len(warm_ids):,} payments x {COPIES} webhooks (not measured)")
                warm_sent, _ = send_webhooks(server.url("/"), delivery_order(warm_ids, senders, seed=SEED + 1), senders)
            measured_ids = [payment.external_id for payment in made if payment.measured]
            progress(f"webhooks: {len(measured_ids):,} payments x {COPIES} webhooks from {senders} senders")
            sent, start = send_webhooks(server.url("/"), delivery_order(measured_ids, senders), senders)
            refetches = sum(
                1 for method, path, _, _ in standin.requests[asked_before:]
                if method == "GET" and path.startswith("/v2/payments/tr_")
            )  # fmt: skip
        # The server has stopped (gracefully): everything it did is committed.
        measured_db_ids = [payment.id for payment in made if payment.measured]
        with engine.connect() as connection:
            confirmed = connection.execute(
                select(func.count()).where(Payment.id.in_(measured_db_ids), Payment.state == "paid")
            ).scalar_one()
        checks = check_database(engine, len(made))
    finally:
        engine.dispose()
        standin.stop()

    every = warm_sent + sent
    bad = Counter(item.outcome for item in every if item.outcome is not None)
    answered = sum(1 for item in every if item.outcome is None)
    checks += [
        Check(
            "every webhook answered 200 ok",
            not bad,
            f"{answered} of {len(every)} ({len(sent)} measured + {len(warm_sent)} warm-up)"
            + (f"; {', '.join(f'{kind} x {n}' for kind, n in sorted(bad.items()))}" if bad else ""),
        ),
        Check(
            "every webhook re-fetched the payment once",
            refetches == len(every),
            f"the stand-in got {refetches} GET /v2/payments/tr_... for {len(every)} webhooks",
        ),
        Check(
            "the server logged no exceptions",
            not server.exceptions(),
            "; ".join(f"{n} x {line}" for line, n in server.exceptions().items()) or "none",
        ),
    ]
    elapsed = max(item.ended for item in sent) - start if sent else 0.0
    latencies = sorted((item.ended - item.began) * 1000 for item in sent)
    result = LoadResult(
        requests=len(sent),
        good=confirmed,
        duration_s=elapsed,
        p50_ms=_percentile(latencies, 50),
        p99_ms=_percentile(latencies, 99),
        errors=dict(sorted(Counter(item.outcome for item in sent if item.outcome is not None).items())),
        unit="confirmations/s",
        server_exceptions=server.exceptions(),
        checks=checks,
    )
    database = urlsplit(url).path.lstrip("/")
    ctx.note(
        f"webhooks on PostgreSQL ({database}): {len(measured_ids):,} payments, each webhook sent {COPIES}x = "
        f"{len(sent):,} requests from {senders} senders in {elapsed:.1f} s: {result.good_per_s:.1f} confirmations/s, "
        f"{len(sent) / elapsed if elapsed else 0:.1f} webhook requests/s (p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms); {_overlapping_pairs(sent):,} of {len(measured_ids):,} duplicate pairs in "
        f"flight together; {len(warm_ids):,} warm-up payments before, not timed; Mollie = the tests' stand-in "
        "in the bench process"
    )
    return result


def webhook_confirmations(ctx: BenchContext) -> LoadResult:
    """For ``make bench``: paid payments per second, webhooks POSTed twice each by concurrent senders."""
    return run_webhook_bench(ctx)


def main(argv: list[str] | None = None) -> int:
    from bench.load import resolve_load_tool

    parser = argparse.ArgumentParser(prog="python -m bench.scenario_webhooks", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help=f"PostgreSQL database (schema public EMPTIED); default {DEFAULT_DATABASE_URL}"
    )
    parser.add_argument("--payments", type=int, default=PAYMENTS, help=f"measured payments (default {PAYMENTS})")
    parser.add_argument("--warmup-payments", type=int, default=WARMUP_PAYMENTS)
    parser.add_argument("--connections", type=int, default=8, help="concurrent senders (default 8)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers (default: cores)")
    args = parser.parse_args(argv)
    settings = Settings(
        workers=args.workers, worker_class="sync", threads=1, connections=args.connections, warmup_s=1,
        duration_s=1, load_tool=resolve_load_tool("auto"), database_url=None, customer_ref="",
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="portal-bench-webhooks-") as workdir:
        ctx = BenchContext(settings, Path(workdir))
        result = run_webhook_bench(ctx, url=args.database_url, payments=args.payments, warmup=args.warmup_payments)
    print(f"{result.good_per_s:.1f} confirmations/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms")
    for check in result.checks:
        print(f"  {'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    if result.failed_checks:
        print("!!! CHECK FAILED: these numbers are not valid", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
