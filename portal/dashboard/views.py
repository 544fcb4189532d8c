"""The staff dashboard: open and overdue totals, ageing, money collected and DSO, as charts with tables."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel import dates, numbers
from flask import Blueprint, render_template
from markupsafe import Markup

from portal.dashboard import services
from portal.dashboard.charts import Bar, Point, bar_chart, line_chart
from portal.dashboard.queries import CURRENCY, Amount
from portal.extensions import db
from portal.i18n import _, _l, _n, current_locale, format_money
from portal.staff.permissions import Permission, requires

bp = Blueprint("dashboard", __name__, url_prefix="/staff/dashboard")

BUCKET_LABELS = (_l("Not yet due"), _l("1-30 days"), _l("31-60 days"), _l("61-90 days"), _l("Over 90 days"))
# The later the money, the darker the red; every colour has at least 3:1 contrast on white (WCAG 1.4.11).
BUCKET_COLOURS = ("#0b5cab", "#b45309", "#c2410c", "#b91c1c", "#7f1d1d")


@bp.get("/")
@requires(Permission.VIEW_DASHBOARD)
def index() -> str:
    today = services.today_in_staff_zone()
    figures = services.dashboard_figures(db.session, today=today, zone=services.staff_zone())
    buckets = [(str(label), amount) for label, amount in zip(BUCKET_LABELS, figures.buckets, strict=True)]
    dso_rows = [(point, format_days(point.days)) for point in figures.dso]
    return render_template(
        "staff/dashboard/index.html",
        figures=figures,
        currency=CURRENCY,
        buckets=buckets,
        dso_rows=dso_rows,
        latest_dso=dso_rows[-1] if dso_rows else None,
        invoice_count=invoice_count,
        number=format_count,
        ageing_chart=_ageing_chart(buckets),
        dso_chart=_dso_chart(figures.dso),
    )


def format_days(days: Decimal) -> str:
    """Days with one decimal, rounded half up, in the page's locale (45,5 in Dutch)."""
    return numbers.format_decimal(days.quantize(Decimal("0.1"), ROUND_HALF_UP), "#,##0.0", locale=current_locale())


def format_count(count: int) -> str:
    return numbers.format_decimal(count, "#,##0", locale=current_locale())


def invoice_count(count: int) -> str:
    return _n("%(count)s invoice", "%(count)s invoices", count, count=format_count(count))


def _whole_euros(value: float) -> str:
    locale = current_locale()
    pattern = locale.currency_formats["standard"].pattern.replace(".00", "")
    return numbers.format_currency(
        Decimal(round(value)), CURRENCY, format=pattern, currency_digits=False, locale=locale
    )


def _whole_days(value: float) -> str:
    return numbers.format_decimal(round(value), "#,##0", locale=current_locale())


def _ageing_chart(buckets: list[tuple[str, Amount]]) -> Markup:
    bars = [
        Bar(
            label=label,
            value=amount.cents / 100,  # pixels only; the amounts shown are formatted from exact cents
            value_label=format_money(amount.cents, CURRENCY),
            sub_label=invoice_count(amount.count),
            colour=colour,
        )
        for (label, amount), colour in zip(buckets, BUCKET_COLOURS, strict=True)
    ]
    return bar_chart(
        "ageing-chart",
        title=_("Open amount by days past due"),
        description=_("Bar chart. The same numbers are in the table below the chart."),
        x_title=_("Days past due"),
        y_title=_("Open amount (EUR)"),
        bars=bars,
        tick_label=_whole_euros,
    )


def _dso_chart(points: list[services.DsoPoint]) -> Markup:
    locale = current_locale()
    chart_points = [
        Point(
            label=dates.format_date(point.month_end, "LLL", locale=locale),
            # The year under the first month and under every January.
            sub_label=str(point.month_end.year) if index == 0 or point.month_end.month == 1 else "",
            value=float(point.days),
            value_label=format_days(point.days),
        )
        for index, point in enumerate(points)
    ]
    return line_chart(
        "dso-chart",
        title=_("DSO at each month-end (countback method)"),
        description=_("Line chart. The same numbers are in the table below the chart."),
        x_title=_("Month-end"),
        y_title=_("Days"),
        points=chart_points,
        tick_label=_whole_days,
    )
