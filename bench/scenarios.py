"""The scenarios: each serves an app, prepares what it needs and returns one measurement.

To add one, write a function ``(BenchContext) -> LoadResult`` and append it to SCENARIOS; to compare two
scenarios, append a Comparison to COMPARISONS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bench.client import check_target, session_cookie
from bench.context import BenchContext
from bench.database import create_link_path
from bench.load import LoadResult, Target, measure
from bench.scenario_import import csv_import, plain_bulk_insert
from bench.scenario_overview import OVERVIEW_MARKER, overview_postgresql, overview_sqlite
from bench.scenario_search import staff_search
from bench.scenario_webhooks import webhook_confirmations
from bench.server import serve

PORTAL_APP = "portal:create_app()"
HELLO_APP = "bench.hello:app"


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[BenchContext], LoadResult]


@dataclass(frozen=True)
class Comparison:
    """``numerator`` as a share of ``denominator`` (good requests per second), with the share aimed for, if any."""

    label: str
    numerator: str
    denominator: str
    aim: float | None = None


def bare_flask_hello(ctx: BenchContext) -> LoadResult:
    """A one-route Flask app answering "hello": the ceiling for these server settings."""
    with serve(HELLO_APP, ctx.base_env, ctx.settings, ctx.workdir) as server:
        target = Target(server.url("/"), marker="hello")
        check_target(target)
        result = measure(target, ctx.settings, ctx.workdir)
    return replace(result, server_exceptions=server.exceptions())


def debtor_overview(ctx: BenchContext) -> LoadResult:
    """One logged-in debtor's overview page, reloaded (the demo customer's open and paid invoices)."""
    env = ctx.portal_env
    link_path = create_link_path(env, ctx.settings.customer_ref)
    with serve(PORTAL_APP, env, ctx.settings, ctx.workdir) as server:
        cookie = session_cookie(server.url(link_path), "portal_session", expect_location="/overview")
        target = Target(server.url("/overview"), headers={"Cookie": cookie}, marker=OVERVIEW_MARKER)
        ctx.note(f"overview shows: {check_target(target)}")
        result = measure(target, ctx.settings, ctx.workdir)
    return replace(result, server_exceptions=server.exceptions())


CAMPAIGN_SQLITE = "debtor overview, 1,000 debtors (sqlite)"
CAMPAIGN_POSTGRESQL = "debtor overview, 1,000 debtors (postgresql)"

SCENARIOS: list[Scenario] = [
    Scenario("bare flask hello", bare_flask_hello),
    Scenario("debtor overview", debtor_overview),
    Scenario(CAMPAIGN_SQLITE, overview_sqlite),
    Scenario(CAMPAIGN_POSTGRESQL, overview_postgresql),
    Scenario("staff search, 100k customers", staff_search),
    Scenario("csv import (100k invoice lines)", csv_import),
    Scenario("plain bulk insert (same rows)", plain_bulk_insert),
    Scenario("webhook confirmations (postgresql)", webhook_confirmations),
]

COMPARISONS: list[Comparison] = [
    Comparison("overview / bare", numerator="debtor overview", denominator="bare flask hello", aim=0.40),
    # A reminder campaign: many debtors, each opening their own overview (issue 10 aims at 0.25x, p99 < 50 ms).
    Comparison(
        "campaign overview / bare (sqlite)", numerator=CAMPAIGN_SQLITE, denominator="bare flask hello", aim=0.25
    ),
    Comparison(
        "campaign overview / bare (postgresql)", numerator=CAMPAIGN_POSTGRESQL, denominator="bare flask hello", aim=0.25
    ),
    Comparison(
        "import / bulk insert",
        numerator="csv import (100k invoice lines)",
        denominator="plain bulk insert (same rows)",
        aim=0.20,
    ),
    # Paid payments per second against hello requests per second; no aim has been set for it yet.
    Comparison(
        "webhook confirmations / bare",
        numerator="webhook confirmations (postgresql)",
        denominator="bare flask hello",
    ),
]
