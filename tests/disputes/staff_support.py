"""Shared steps of the staff dispute tests: disputes opened at a given moment, the staff pages as read."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine

# Wednesday 2 December 2026, 10:00 UTC (11:00 in Amsterdam).
NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)
QUEUE = "/staff/disputes/"


def text_of(html: str) -> str:
    """The page as a person reads it: tags gone, white space folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def opened(dispute_on, invoice, *, days_ago: int = 0, **options):
    """A dispute opened ``days_ago`` days before NOW (its deadlines counted from then)."""
    with time_machine.travel(NOW - timedelta(days=days_ago), tick=False):
        return dispute_on(invoice, **options)


def queue_rows(html: str) -> list[str]:
    body = html.split('class="dispute-queue"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.split("<tr")[1:]


def token_of(html: str) -> str:
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)
