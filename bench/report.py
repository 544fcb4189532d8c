"""The report: a table on stdout and the same data as JSON in bench-results/latest.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import LoadResult
from bench.scenarios import Comparison


@dataclass(frozen=True)
class ComparisonResult:
    comparison: Comparison
    ratio: float

    @property
    def met(self) -> bool | None:
        return None if self.comparison.aim is None else self.ratio >= self.comparison.aim

    def line(self) -> str:
        if self.comparison.aim is None:
            return f"{self.comparison.label}: {self.ratio:.1%} (no aim set)"
        verdict = "met" if self.met else "NOT met"
        return f"{self.comparison.label}: {self.ratio:.1%} (aim >= {self.comparison.aim:.0%}, {verdict})"


def compare(results: dict[str, LoadResult], comparisons: list[Comparison]) -> list[ComparisonResult]:
    """The comparisons whose two scenarios both ran and the denominator served something."""
    compared = []
    for comparison in comparisons:
        top, bottom = results.get(comparison.numerator), results.get(comparison.denominator)
        if top is not None and bottom is not None and bottom.good_per_s > 0:
            compared.append(ComparisonResult(comparison, top.good_per_s / bottom.good_per_s))
    return compared


def format_report(
    header: dict[str, Any], results: dict[str, LoadResult], compared: list[ComparisonResult], notes: list[str]
) -> str:
    """The human-readable report: settings, one row per scenario, comparisons, errors, notes."""
    lines = ["settings:"]
    lines += [f"  {key:<16}{value}" for key, value in header.items()]
    width = max([len("scenario"), *(len(name) for name in results)]) + 2
    rates = {
        name: f"{result.good_per_s:.1f}" + ("" if result.unit == "req/s" else f" {result.unit}")
        for name, result in results.items()
    }
    rate_width = max([8, *(len(rate) for rate in rates.values())]) + 2
    lines += [
        "",
        f"{'scenario':<{width}}{'req/s':>{rate_width}}{'p50 ms':>10}{'p99 ms':>10}{'errors':>9}  (of requests)",
    ]
    for name, result in results.items():
        lines.append(
            f"{name:<{width}}{rates[name]:>{rate_width}}{result.p50_ms:>10.2f}{result.p99_ms:>10.2f}"
            f"{result.error_count:>9}  ({result.requests})"
        )
    lines.append("")
    lines += [item.line() for item in compared]
    lines.append("req/s counts good responses only (200 with the expected page); p50/p99 cover every response.")
    for name, result in results.items():
        if result.checks:
            lines.append(f"checks of {name}:")
            lines += [f"  {'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}" for check in result.checks]
    for name, result in results.items():
        for check in result.failed_checks:
            lines.append(f"!!! CHECK FAILED in {name}: {check.name} ({check.detail}); its figures are NOT valid")
    for name, result in results.items():
        if result.errors:
            counts = ", ".join(f"{kind} x {count}" for kind, count in result.errors.items())
            lines.append(f"errors in {name}: {counts}")
        for exception, count in result.server_exceptions.items():
            lines.append(f"  server logged {count} x {exception}")
    lines += [f"note: {note}" for note in notes]
    return "\n".join(lines)


def to_json(
    header: dict[str, Any],
    settings: dict[str, Any],
    results: dict[str, LoadResult],
    compared: list[ComparisonResult],
    notes: list[str],
) -> dict[str, Any]:
    """The same report as plain data, with the settings as given on the command line."""
    return {
        "run": header,
        "settings": settings,
        "scenarios": [
            {
                "name": name,
                "unit": result.unit,
                "per_second": round(result.good_per_s, 2),
                "p50_ms": round(result.p50_ms, 3),
                "p99_ms": round(result.p99_ms, 3),
                "requests": result.requests,
                "good": result.good,
                "errors": result.errors,
                "duration_s": round(result.duration_s, 3),
                "server_exceptions": result.server_exceptions,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in result.checks],
            }
            for name, result in results.items()
        ],
        "comparisons": [
            {
                "label": item.comparison.label,
                "numerator": item.comparison.numerator,
                "denominator": item.comparison.denominator,
                "ratio": round(item.ratio, 4),
                "aim": item.comparison.aim,
                "met": item.met,
            }
            for item in compared
        ],
        "notes": notes,
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
