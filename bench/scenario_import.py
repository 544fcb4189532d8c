"""Import throughput: the CSV import of 100,000 invoice lines, next to a plain bulk insert of the same rows.

Both run on an identical fresh database (migrated, with the same customers inserted first, not timed):
one through ``portal.imports.services.import_file`` - the function behind ``flask import invoices`` - which
decodes, parses, validates, matches and writes; the other through bare ``session.execute(insert(...), rows)``
of rows prepared in advance, the fastest the database takes them. The ratio is the price of the checks.

Run alone: ``python -m bench.scenario_import [--database-url postgresql://...]``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bench.context import BenchContext, mask_password, progress
from bench.load import LoadResult

CUSTOMERS, INVOICES, LINES_PER_INVOICE = 5_000, 20_000, 5
HEADER = (
    "customer_ref;invoice_number;external_ref;category;issue_date;due_date;period_start;period_end;"
    "currency;state;paid_at;description;quantity;unit;unit_price;vat_rate;amount"
)
# description, unit, unit price, VAT rate: the lines of a Dutch energy bill (the last one varies).
LINE_KINDS = [
    ("Stroom normaal tarief", "kWh", Decimal("0.27350"), Decimal("21")),
    ("Stroom dal tarief", "kWh", Decimal("0.25120"), Decimal("21")),
    ("Gas", "m³", Decimal("1.28760"), Decimal("21")),
    ("Vaste leveringskosten", "maand", Decimal("6.99000"), Decimal("21")),
]
LAST_LINES = [
    ("Vermindering energiebelasting", "maand", Decimal("-52.06000"), Decimal("21")),
    ("Onderhoudscontract zonnepanelen", "kwartaal", Decimal("89.00000"), Decimal("9")),
]


@dataclass(frozen=True)
class ImportBenchResult:
    lines: int
    invoices: int
    customers: int
    csv_bytes: int
    import_s: float
    bulk_s: float
    database: str

    @property
    def import_rows_per_s(self) -> float:
        return self.lines / self.import_s

    @property
    def bulk_rows_per_s(self) -> float:
        return self.lines / self.bulk_s

    def describe(self) -> str:
        return (
            f"{self.lines:,} invoice lines ({self.invoices:,} invoices, {self.customers:,} customers, "
            f"{self.csv_bytes / 1e6:.1f} MB CSV) on {self.database}: CSV import {self.import_s:.2f} s "
            f"({self.import_rows_per_s:,.0f} lines/s), plain bulk insert {self.bulk_s:.2f} s "
            f"({self.bulk_rows_per_s:,.0f} lines/s); import takes {self.import_s / self.bulk_s:.1f}x as long"
        )


def _cents(value: Decimal) -> int:
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def generate(
    customers: int = CUSTOMERS, invoices: int = INVOICES, lines_per_invoice: int = LINES_PER_INVOICE
) -> tuple[bytes, list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The CSV file (as Dutch Excel writes it: semicolons, decimal commas) and the same data as ready rows."""
    rng = random.Random(2026)  # noqa: S311 - bench data
    out = [HEADER]
    invoice_rows, line_rows, vat_rows = [], [], []
    first = date(2026, 1, 1)
    for n in range(1, invoices + 1):
        customer = (n - 1) % customers + 1
        issue = first + timedelta(days=n % 300)
        due = issue + timedelta(days=14)
        number = f"B{n:08d}"
        kinds = [*LINE_KINDS, LAST_LINES[n % 2]][:lines_per_invoice]
        bases: dict[Decimal, int] = {}
        for position, (description, unit, price, rate) in enumerate(kinds, start=1):
            fixed = unit in ("maand", "kwartaal")
            quantity = Decimal(1) if fixed else Decimal(rng.randint(50_000, 400_000)).scaleb(-3)
            amount = _cents(quantity * price * 100)
            bases[rate] = bases.get(rate, 0) + amount
            out.append(
                ";".join(
                    [
                        f"K{customer:06d}",
                        number,
                        "",
                        "energy-monthly",
                        issue.strftime("%d-%m-%Y"),
                        due.strftime("%d-%m-%Y"),
                        "",
                        "",
                        "EUR",
                        "",
                        "",
                        description,
                        str(quantity).replace(".", ","),
                        unit,
                        str(price).replace(".", ","),
                        str(rate),
                        "",
                    ]
                )
            )
            line_rows.append(
                {
                    "invoice_id": n,
                    "position": position,
                    "description": description,
                    "quantity": quantity,
                    "unit": unit,
                    "unit_price": price,
                    "vat_rate": rate,
                    "amount_cents": amount,
                }
            )
        vats = [(rate, base, _cents(Decimal(base) * rate / 100)) for rate, base in sorted(bases.items())]
        vat_rows += [{"invoice_id": n, "rate": r, "base_cents": b, "vat_cents": v} for r, b, v in vats]
        subtotal, vat = sum(bases.values()), sum(v for _, _, v in vats)
        invoice_rows.append(
            {
                "id": n,
                "customer_id": customer,
                "number": number,
                "external_ref": None,
                "category": "energy-monthly",
                "issue_date": issue,
                "due_date": due,
                "period_start": None,
                "period_end": None,
                "currency": "EUR",
                "subtotal_cents": subtotal,
                "vat_cents": vat,
                "total_cents": subtotal + vat,
                "state": "open",
                "paid_at": None,
            }
        )
    return ("\n".join(out) + "\n").encode(), invoice_rows, line_rows, vat_rows


def _fresh_database(url: str, customers: int) -> Any:
    """Migrate ``url`` (a PostgreSQL schema is emptied first) and insert the customers; returns the engine."""
    from bench.database import reset_postgres_schema
    from portal.customers.models import Customer
    from portal.db import make_engine
    from portal.migrate import upgrade_to_head

    if not url.startswith("sqlite"):
        reset_postgres_schema(url)
    upgrade_to_head(url)
    engine = make_engine(url)
    with Session(engine) as session:
        session.execute(
            insert(Customer),
            [
                {"id": n, "external_ref": f"K{n:06d}", "name": f"Klant {n}", "email": f"klant{n}@example.nl"}
                for n in range(1, customers + 1)
            ],
        )
        session.commit()
    return engine


def _counts(engine: Any) -> tuple[int, ...]:
    from portal.invoices.models import Invoice, InvoiceLine, InvoiceVatTotal

    with Session(engine) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Invoice, InvoiceLine, InvoiceVatTotal)
        )


def run_import_bench(
    import_url: str, bulk_url: str, *, customers: int = CUSTOMERS, invoices: int = INVOICES
) -> ImportBenchResult:
    """Time the CSV import on ``import_url`` and the plain bulk insert on ``bulk_url`` (both made fresh here).

    ``import_url`` and ``bulk_url`` may be the same PostgreSQL database: it is emptied before each part.
    """
    from portal.audit.services import Actor
    from portal.imports.services import import_file
    from portal.invoices.models import Invoice, InvoiceLine, InvoiceVatTotal

    content, invoice_rows, line_rows, vat_rows = generate(customers, invoices)
    progress(f"import bench: {len(line_rows):,} lines, {len(content) / 1e6:.1f} MB of CSV")

    engine = _fresh_database(import_url, customers)
    with Session(engine) as session:
        started = time.perf_counter()
        outcome = import_file(
            session,
            "invoices",
            content,
            actor=Actor(type="system", id="bench"),
            zone="Europe/Amsterdam",
            source="bench",
        )
        session.commit()
        import_s = time.perf_counter() - started
    if not outcome.ok or outcome.tally.counts["created"] != invoices:
        raise RuntimeError(f"the bench file did not import cleanly: {outcome.summary()['errors'][:3]}")
    imported = _counts(engine)
    engine.dispose()

    engine = _fresh_database(bulk_url, customers)
    with Session(engine) as session:
        started = time.perf_counter()
        # Core INSERTs of rows prepared in advance, as the import writes them: nothing but the database's work.
        session.execute(insert(Invoice.__table__), invoice_rows)
        session.execute(insert(InvoiceLine.__table__), line_rows)
        session.execute(insert(InvoiceVatTotal.__table__), vat_rows)
        session.commit()
        bulk_s = time.perf_counter() - started
    inserted = _counts(engine)
    engine.dispose()
    if imported != inserted:
        raise RuntimeError(f"import wrote {imported} rows, the bulk insert {inserted} (invoices, lines, VAT)")
    database = "sqlite" if import_url.startswith("sqlite") else mask_password(import_url)
    return ImportBenchResult(len(line_rows), invoices, customers, len(content), import_s, bulk_s, database)


def _postgres_url(url: str) -> str:
    from portal.config import load_config

    return str(load_config({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40})["DATABASE_URL"])


_results: dict[int, ImportBenchResult] = {}


def _result_for(ctx: BenchContext) -> ImportBenchResult:
    """Both measurements run once per bench run, whichever of the two scenarios asks first."""
    if id(ctx) not in _results:
        if ctx.settings.database_url:
            url = _postgres_url(ctx.settings.database_url)
            _results[id(ctx)] = run_import_bench(url, url)
            # The schema now holds bench data, not the demo: let a later scenario prepare it again.
            ctx.__dict__.pop("portal_env", None)
        else:
            _results[id(ctx)] = run_import_bench(
                f"sqlite:///{ctx.workdir / 'import.sqlite3'}", f"sqlite:///{ctx.workdir / 'bulk.sqlite3'}"
            )
        ctx.note(_results[id(ctx)].describe())
    return _results[id(ctx)]


def _as_load_result(lines: int, seconds: float) -> LoadResult:
    return LoadResult(requests=lines, good=lines, duration_s=seconds, p50_ms=0.0, p99_ms=0.0, errors={}, unit="rows/s")


def csv_import(ctx: BenchContext) -> LoadResult:
    """``flask import invoices`` of 100,000 lines (the service function), in invoice lines per second."""
    result = _result_for(ctx)
    return _as_load_result(result.lines, result.import_s)


def plain_bulk_insert(ctx: BenchContext) -> LoadResult:
    """The same rows through bare bulk INSERTs, prepared in advance: the ceiling for the import."""
    result = _result_for(ctx)
    return _as_load_result(result.lines, result.bulk_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scenario_import", description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL database to use (its schema public is REPLACED)")
    parser.add_argument("--invoices", type=int, default=INVOICES, help=f"invoices of 5 lines (default {INVOICES})")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="portal-bench-import-") as workdir:
        if args.database_url:
            url = _postgres_url(args.database_url)
            result = run_import_bench(url, url, invoices=args.invoices)
        else:
            folder = Path(workdir)
            result = run_import_bench(
                f"sqlite:///{folder / 'import.sqlite3'}", f"sqlite:///{folder / 'bulk.sqlite3'}", invoices=args.invoices
            )
    print(result.describe())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
