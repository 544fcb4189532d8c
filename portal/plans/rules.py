"""The rules of a payment plan as pure functions: the pages, the staff area and ``plans preview`` all use these.

1. Instalments add up exactly to the total; the rounding difference goes into the last one. Cents, never floats.
2. Monthly instalments keep the day of the first: a plan starting on 31 January falls on 28 (or 29) February,
   then 31 March. Every two weeks is every 14 days.
3. A proposal is inside the policy when its kind's limits hold: at most so many instalments, each at least so
   much, at most so much in total, the first within so many days. Anything else is for staff to decide.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from portal.money import decimal_text

FREQUENCIES = ("month", "2weeks")
# No plan starts more than a year ahead: far beyond any policy, and it keeps every date a plan can reach (60
# instalments on) well inside the calendar, so no typed date (9999-12-31) can break the schedule.
LATEST_FIRST_DAYS = 366
KINDS = ("consumer", "business")
# Why a proposal is outside the policy, in the order they are checked: the CLI and the API print the code.
REASONS = ("too_many_instalments", "instalment_too_small", "total_too_large", "first_too_late", "first_in_past")


@dataclass(frozen=True)
class Policy:
    """The limits for one kind of customer, read from the versioned settings (see policy.py)."""

    kind: str
    max_instalments: int
    min_instalment_cents: int
    max_total_cents: int
    first_within_days: int

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "max_instalments": self.max_instalments,
            "min_instalment": decimal_text(self.min_instalment_cents),
            "max_total": decimal_text(self.max_total_cents),
            "first_within_days": self.first_within_days,
        }


@dataclass(frozen=True)
class Instalment:
    due_on: date
    amount_cents: int


@dataclass(frozen=True)
class Proposal:
    """A schedule and what the policy says about it."""

    instalments: list[Instalment]
    reason: str | None  # None: inside the policy

    @property
    def within_policy(self) -> bool:
        return self.reason is None

    @property
    def total_cents(self) -> int:
        return sum(instalment.amount_cents for instalment in self.instalments)

    def as_json(self) -> dict[str, Any]:
        return {
            "within_policy": self.within_policy,
            "reason": self.reason,
            "instalments": [
                {"date": item.due_on.isoformat(), "amount": decimal_text(item.amount_cents)}
                for item in self.instalments
            ],
        }


def split_amount(total_cents: int, count: int) -> list[int]:
    """Equal instalments in whole cents, the rounding difference in the last: 100.00 / 3 -> 33.33, 33.33, 33.34."""
    if count < 1:
        raise ValueError("a plan has at least one instalment")
    if total_cents < count:
        raise ValueError("every instalment must be at least one cent")
    each = total_cents // count
    return [each] * (count - 1) + [total_cents - each * (count - 1)]


def add_months(day: date, months: int, *, keep_day: int | None = None) -> date:
    """``day`` moved ``months`` calendar months on, on ``keep_day`` (default its own day) or the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    wanted = keep_day or day.day
    return date(year, month, min(wanted, calendar.monthrange(year, month)[1]))


def instalment_dates(first: date, count: int, every: str) -> list[date]:
    if every not in FREQUENCIES:
        raise ValueError(f"unknown frequency {every!r}")
    if every == "2weeks":
        return [first + timedelta(days=14 * number) for number in range(count)]
    # Always counted from the first date, so 31 January -> 28 February -> 31 March, not the 28th for ever after.
    return [add_months(first, number, keep_day=first.day) for number in range(count)]


def schedule(total_cents: int, count: int, every: str, first: date) -> list[Instalment]:
    return [
        Instalment(due_on, cents)
        for due_on, cents in zip(instalment_dates(first, count, every), split_amount(total_cents, count), strict=True)
    ]


def outside_policy(policy: Policy, instalments: list[Instalment], today: date) -> str | None:
    """The first limit ``instalments`` breaks (a code from REASONS), or None when the policy allows them."""
    total = sum(item.amount_cents for item in instalments)
    if len(instalments) > policy.max_instalments:
        return "too_many_instalments"
    # A single payment later is a plan of one: its one instalment is the total, however small.
    if len(instalments) > 1 and min(item.amount_cents for item in instalments) < policy.min_instalment_cents:
        return "instalment_too_small"
    if total > policy.max_total_cents:
        return "total_too_large"
    first = instalments[0].due_on
    if first < today:
        return "first_in_past"
    if first > today + timedelta(days=policy.first_within_days):
        return "first_too_late"
    return None


def propose(policy: Policy, total_cents: int, count: int, every: str, first: date, today: date) -> Proposal:
    """The schedule for these choices and whether the policy allows it. ValueError for choices that make no
    schedule at all (no instalments, fewer cents than instalments, an unknown frequency)."""
    instalments = schedule(total_cents, count, every, first)
    return Proposal(instalments, outside_policy(policy, instalments, today))


def most_instalments(policy: Policy, total_cents: int) -> int:
    """The most instalments the policy allows for ``total_cents`` (each at least the minimum), at least 1."""
    if policy.min_instalment_cents <= 0:
        return policy.max_instalments
    return max(1, min(policy.max_instalments, total_cents // policy.min_instalment_cents))


def instalments_from_json(rows: list[dict[str, str]] | None) -> list[Instalment]:
    """The instalments of ``Proposal.as_json()["instalments"]`` again (a plan keeps the debtor's own that way)."""
    instalments = []
    for row in rows or []:
        whole, _, cents = row["amount"].partition(".")
        instalments.append(Instalment(date.fromisoformat(row["date"]), int(whole) * 100 + int(cents or 0)))
    return instalments
