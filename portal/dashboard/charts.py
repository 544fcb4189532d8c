"""Small server-side SVG charts: a bar chart and a line chart, drawn without a library.

The page's Content-Security-Policy forbids style attributes, so everything is drawn with SVG
presentation attributes (fill, stroke, font-size...). Every value is written on the chart as text, so
no one has to tell colours apart, and the page repeats the numbers in a table for screen readers.
Callers pass numbers for the geometry and ready-formatted (translated, locale-aware) labels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 340
LEFT, RIGHT, TOP, BOTTOM = 92, 20, 44, 70
TEXT = "#1b1f24"
MUTED = "#4a5563"
GRID = "#c9d0d8"
ACCENT = "#0b5cab"
FONT = 'font-family="system-ui, sans-serif"'


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar
    value: float  # height, in the unit of the y axis
    value_label: str  # written on top of the bar
    sub_label: str = ""  # a second line under the label
    colour: str = ACCENT


@dataclass(frozen=True)
class Point:
    label: str  # under the x axis
    value: float
    value_label: str  # written above the point
    sub_label: str = ""


def nice_ticks(maximum: float, count: int = 4, minimum_step: float = 1) -> list[float]:
    """Round axis ticks from 0 to at least ``maximum``: steps of 1, 2 or 5 times a power of ten."""
    raw = max(maximum, 0) / count
    if raw <= minimum_step:
        step = minimum_step
    else:
        magnitude = 10 ** math.floor(math.log10(raw))
        step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    steps = max(1, math.ceil(max(maximum, 0) / step - 1e-9))
    return [i * step for i in range(steps + 1)]


def _text(
    x: float, y: float, content: str, *, anchor: str = "middle", size: int = 13, fill: str = TEXT, **attributes: str
) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{escape(value)}"' for name, value in attributes.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" {FONT} fill="{fill}"{extra}>'
        f"{escape(content)}</text>"
    )


def _frame(
    chart_id: str, title: str, description: str, x_title: str, y_title: str, ticks: list[float], tick_label: Callable
) -> list[str]:
    """The svg element with its accessible name, the title, the y axis with grid lines and both axis titles."""
    plot_bottom = HEIGHT - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="chart" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        _text(LEFT, 24, title, anchor="start", size=16, font_weight="bold"),
    ]
    for tick in ticks:
        y = _y(tick, ticks[-1])
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(LEFT - 8, y + 4, tick_label(tick), anchor="end", size=12))
    axis = f'stroke="{TEXT}" stroke-width="1.5"'
    parts.append(f'<line x1="{LEFT}" y1="{plot_bottom}" x2="{WIDTH - RIGHT}" y2="{plot_bottom}" {axis}/>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{plot_bottom}" {axis}/>')
    middle_y = (TOP + plot_bottom) / 2
    parts.append(_text(16, middle_y, y_title, size=12, transform=f"rotate(-90 16 {middle_y:.1f})"))
    parts.append(_text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 8, x_title, size=12))
    return parts


def _y(value: float, top_value: float) -> float:
    plot_height = HEIGHT - BOTTOM - TOP
    share = max(value, 0) / top_value if top_value else 0
    return HEIGHT - BOTTOM - share * plot_height


def _slot_centres(count: int) -> tuple[list[float], float]:
    slot = (WIDTH - LEFT - RIGHT) / max(count, 1)
    return [LEFT + slot * (i + 0.5) for i in range(count)], slot


def bar_chart(
    chart_id: str,
    *,
    title: str,
    description: str,
    x_title: str,
    y_title: str,
    bars: Sequence[Bar],
    tick_label: Callable[[float], str],
    minimum_step: float = 1,
) -> Markup:
    """A vertical bar chart with each bar's value written above it."""
    ticks = nice_ticks(max((bar.value for bar in bars), default=0), minimum_step=minimum_step)
    parts = _frame(chart_id, title, description, x_title, y_title, ticks, tick_label)
    centres, slot = _slot_centres(len(bars))
    width = slot * 0.6
    plot_bottom = HEIGHT - BOTTOM
    for centre, bar in zip(centres, bars, strict=True):
        y = _y(bar.value, ticks[-1])
        parts.append(
            f'<rect x="{centre - width / 2:.1f}" y="{y:.1f}" width="{width:.1f}" height="{plot_bottom - y:.1f}" '
            f'fill="{escape(bar.colour)}"/>'
        )
        parts.append(_text(centre, y - 6, bar.value_label, font_weight="bold"))
        parts.append(_text(centre, plot_bottom + 18, bar.label))
        if bar.sub_label:
            parts.append(_text(centre, plot_bottom + 34, bar.sub_label, size=12, fill=MUTED))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def line_chart(
    chart_id: str,
    *,
    title: str,
    description: str,
    x_title: str,
    y_title: str,
    points: Sequence[Point],
    tick_label: Callable[[float], str],
    minimum_step: float = 1,
) -> Markup:
    """A line through the points, each marked with a dot and its value."""
    ticks = nice_ticks(max((point.value for point in points), default=0), minimum_step=minimum_step)
    parts = _frame(chart_id, title, description, x_title, y_title, ticks, tick_label)
    centres, _slot = _slot_centres(len(points))
    plot_bottom = HEIGHT - BOTTOM
    coordinates = [(x, _y(point.value, ticks[-1])) for x, point in zip(centres, points, strict=True)]
    if coordinates:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{ACCENT}" stroke-width="3"/>')
    for (x, y), point in zip(coordinates, points, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{ACCENT}" stroke="#fff" stroke-width="1.5"/>')
        # A white outline keeps the number readable where the line runs through it.
        parts.append(
            _text(
                x,
                y - 10,
                point.value_label,
                size=12,
                font_weight="bold",
                stroke="#fff",
                stroke_width="3",
                paint_order="stroke",
            )
        )
        parts.append(_text(x, plot_bottom + 18, point.label, size=12))
        if point.sub_label:
            parts.append(_text(x, plot_bottom + 34, point.sub_label, size=12, fill=MUTED))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()
