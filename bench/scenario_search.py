"""Staff search with 100,000 customers: how long one search takes, per kind of search.

Not a load test: it fills a fresh database with 100,000 customers (two invoices each) by bulk insert, then
calls the staff search's own query function (portal.customers.queries.search_customers) about fifty times
per kind of search and reports p50/p99 in milliseconds. The page itself adds only template rendering.

    .venv/bin/python -m bench.scenario_search                      # a fresh SQLite file
    .venv/bin/python -m bench.scenario_search --database-url postgresql://postgres@127.0.0.1:5432/NAME

A PostgreSQL database given here is EMPTIED first (schema ``public`` is dropped), as ``make bench`` does.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from bench.context import progress

CUSTOMERS = 100_000
SEARCHES_PER_KIND = 50
BATCH = 5_000
FIRST_NAMES = (
    "Sanne Femke Pieter Lotte Emily Henk Noor Daan Priya Wouter Anouk Kevin Oliver Esra Sarah Marco Jan Anna Bram "
    "Eva Luuk Julia Sem Tess Finn Zoë Lucas Mila Thijs Saar Ruben Iris Mohamed Fatima Kees Els Joost Ilse Yusuf Lieke"
).split()
SURNAMES = (
    "de Vries|Jansen|Bakker|Visser|Smit|Meijer|de Boer|Mulder|de Groot|Bos|Vos|Peters|Hendriks|van Leeuwen|Dekker|"
    "Brouwer|de Wit|Dijkstra|Smits|de Graaf|van der Meer|van der Linden|Kok|Jacobs|de Haan|Vermeulen|van den Berg|"
    "van der Heijden|van der Veen|van den Broek|de Bruijn|de Jong|Willems|Janssens|Peeters|El Amrani|Yilmaz|Sharma|"
    "Whitfield|Carter|Bennett|O'Connor|Schouten|van Dam|Hoekstra|Koster|Prins|Huisman|Kuipers|Sanders-Vos"
).split("|")
BUSINESS_WORDS = "Installatietechniek Bakkerij Kapsalon Bouw Transport Advies Horeca Zorg".split()


def _sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _customer_name(rng: random.Random) -> tuple[str, str]:
    surname = rng.choice(SURNAMES)
    if rng.random() < 0.1:
        return f"{surname[0].upper()}{surname[1:]} {rng.choice(BUSINESS_WORDS)} B.V.", "business"
    return f"{rng.choice(FIRST_NAMES)} {surname}", "consumer"


def fill(session: Session, count: int = CUSTOMERS) -> dict[str, list[str]]:
    """Bulk-insert ``count`` customers with two invoices each; return samples to search for, per kind."""
    from portal.customers.models import Customer
    from portal.invoices.models import Invoice

    rng = random.Random(20261122)
    today = date(2026, 11, 22)
    created = datetime(2026, 1, 1, tzinfo=UTC)
    names: list[str] = []
    for start in range(1, count + 1, BATCH):
        customers, invoices = [], []
        for n in range(start, min(start + BATCH, count + 1)):
            name, kind = _customer_name(rng)
            names.append(name)
            local = "".join(ch for ch in name.lower() if ch.isalnum() or ch == " ").replace(" ", ".")
            customers.append(
                {"id": n, "external_ref": f"C{n:07d}", "name": name, "email": f"{local}.{n}@example.com",
                 "kind": kind, "language": "nl", "country": "NL", "time_zone": "Europe/Amsterdam",
                 "created_at": created}
            )  # fmt: skip
            for k, (issue, state) in enumerate(
                ((today - timedelta(days=75), "paid"), (today - timedelta(days=20), "open"))
            ):
                cents = rng.randrange(2_000, 40_000)
                vat = cents * 21 // 100
                invoices.append(
                    {"customer_id": n, "number": f"F{n:07d}-{k}", "category": "general", "issue_date": issue,
                     "due_date": issue + timedelta(days=14), "currency": "EUR", "subtotal_cents": cents,
                     "vat_cents": vat, "total_cents": cents + vat, "state": state, "created_at": created,
                     "paid_at": created if state == "paid" else None}
                )  # fmt: skip
        session.execute(insert(Customer), customers)
        session.execute(insert(Invoice), invoices)
        session.commit()
    picks = [rng.randrange(1, count + 1) for _ in range(SEARCHES_PER_KIND)]
    return {
        "name, one word": [rng.choice(SURNAMES).split()[-1].lower() for _ in picks],
        "name, start of a word": [rng.choice(SURNAMES).split()[-1][:3] for _ in picks],
        "name, two words": [names[n - 1].split()[0] + " " + names[n - 1].split()[-1] for n in picks],
        "reference": [f"C{n:07d}" for n in picks],
        "reference prefix": [f"C{n:07d}"[:-2] for n in picks],
        "e-mail": [
            "".join(ch for ch in names[n - 1].lower() if ch.isalnum() or ch == " ").replace(" ", ".")
            + f".{n}@example.com"
            for n in picks
        ],
        "invoice number": [f"F{n:07d}-1" for n in picks],
        "no match": [f"qzx{n}" for n in picks],
    }


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_searches(
    session: Session, samples: dict[str, list[str]], search: Callable[..., Any]
) -> dict[str, dict[str, float]]:
    """p50/p99 milliseconds and the median number of matches, per kind of search."""
    results: dict[str, dict[str, float]] = {}
    for kind, queries in samples.items():
        search(session, queries[0])  # warm the statement cache and the database's pages
        session.rollback()
        timings, matches = [], []
        for query in queries:
            started = time.perf_counter()
            page = search(session, query)
            timings.append((time.perf_counter() - started) * 1000)
            matches.append(page.total)
            session.rollback()
        results[kind] = {
            "p50_ms": round(_percentile(timings, 0.50), 2),
            "p99_ms": round(_percentile(timings, 0.99), 2),
            "median_matches": statistics.median(matches),
        }
    return results


def measure_search(database_url: str | None = None, customers: int = CUSTOMERS) -> dict[str, Any]:
    """Fill a fresh database (None: a temporary SQLite file) and time the staff search on it."""
    import portal.models  # noqa: F401 - every model, so the mappers can be configured
    from portal.customers.queries import search_customers
    from portal.db import make_engine
    from portal.migrate import upgrade_to_head

    with tempfile.TemporaryDirectory(prefix="bench-search-") as workdir:
        url = _sqlalchemy_url(database_url or f"sqlite:///{Path(workdir) / 'search.sqlite3'}")
        if url.startswith("postgresql"):
            from bench.database import reset_postgres_schema

            reset_postgres_schema(url)
        progress("search: migrating a fresh database")
        upgrade_to_head(url)
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                progress(f"search: inserting {customers:,} customers and {2 * customers:,} invoices")
                started = time.perf_counter()
                samples = fill(session, customers)
                fill_s = time.perf_counter() - started
                if url.startswith("postgresql"):
                    # What autovacuum would have done by the time staff search a database this size.
                    session.execute(text("ANALYZE"))
                    session.commit()
                progress("search: timing searches")
                kinds = time_searches(session, samples, search_customers)
        finally:
            engine.dispose()
    return {
        "database": url.split(":", 1)[0],
        "customers": customers,
        "fill_s": round(fill_s, 1),
        "searches_per_kind": SEARCHES_PER_KIND,
        "kinds": kinds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="postgresql://... (EMPTIED first); default: a temporary SQLite file")
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    args = parser.parse_args()
    result = measure_search(args.database_url, args.customers)
    print(json.dumps(result, indent=2))
    print(f"\n{'kind of search':<24}{'p50 ms':>10}{'p99 ms':>10}{'matches':>10}")
    for kind, numbers in result["kinds"].items():
        print(f"{kind:<24}{numbers['p50_ms']:>10}{numbers['p99_ms']:>10}{numbers['median_matches']:>10}")


if __name__ == "__main__":
    main()


def staff_search(ctx: Any) -> Any:
    """For ``make bench``: the slowest kind of search (by name) as searches per second, every kind in the notes."""
    from bench.load import LoadResult

    result = measure_search(ctx.settings.database_url)
    if ctx.settings.database_url:
        ctx.__dict__.pop("portal_env", None)  # the schema now holds bench data; a later scenario prepares the demo
    for kind, numbers in result["kinds"].items():
        customers = f"{result['customers']:,}"
        ctx.note(f"search by {kind} with {customers} customers: p50 {numbers['p50_ms']} ms, p99 {numbers['p99_ms']} ms")
    name = result["kinds"]["name, one word"]
    return LoadResult(
        requests=SEARCHES_PER_KIND,
        good=SEARCHES_PER_KIND,
        duration_s=SEARCHES_PER_KIND * name["p50_ms"] / 1000,
        p50_ms=name["p50_ms"],
        p99_ms=name["p99_ms"],
        errors={},
        unit="searches/s",
    )
