"""The pure rules of a plan: exact instalments, month ends, the policy's reason codes (consumer and business)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from portal.plans import rules

CONSUMER = rules.Policy(
    "consumer", max_instalments=6, min_instalment_cents=2500, max_total_cents=250000, first_within_days=30
)
BUSINESS = rules.Policy(
    "business", max_instalments=3, min_instalment_cents=10000, max_total_cents=1000000, first_within_days=30
)
TODAY = date(2027, 1, 10)


def test_rounding_goes_into_the_last_instalment() -> None:
    assert rules.split_amount(10000, 3) == [3333, 3333, 3334]
    assert rules.split_amount(123456, 1) == [123456]
    assert rules.split_amount(5, 5) == [1, 1, 1, 1, 1]


def test_instalments_always_add_up_exactly() -> None:
    generator = random.Random(12)  # the same "random" totals every run
    for _ in range(2000):
        count = generator.randint(1, 60)
        total = generator.randint(count, 10_000_000)
        parts = rules.split_amount(total, count)
        assert sum(parts) == total and len(parts) == count
        assert all(isinstance(part, int) for part in parts)
        assert max(parts[:-1] or parts) == min(parts[:-1] or parts), "all but the last are equal"
        assert 0 <= parts[-1] - parts[0] < count


def test_impossible_splits_are_refused() -> None:
    with pytest.raises(ValueError):
        rules.split_amount(100, 0)
    with pytest.raises(ValueError):
        rules.split_amount(2, 3)


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        (date(2027, 1, 31), [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]),
        (date(2028, 1, 31), [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]),
        (date(2027, 1, 29), [date(2027, 1, 29), date(2027, 2, 28), date(2027, 3, 29), date(2027, 4, 29)]),
        (date(2028, 1, 29), [date(2028, 1, 29), date(2028, 2, 29), date(2028, 3, 29), date(2028, 4, 29)]),
        (date(2027, 1, 30), [date(2027, 1, 30), date(2027, 2, 28), date(2027, 3, 30), date(2027, 4, 30)]),
        (date(2027, 11, 30), [date(2027, 11, 30), date(2027, 12, 30), date(2028, 1, 30), date(2028, 2, 29)]),
        (date(2028, 2, 29), [date(2028, 2, 29), date(2028, 3, 29), date(2028, 4, 29), date(2028, 5, 29)]),
    ],
)
def test_monthly_dates_keep_the_chosen_day(first: date, expected: list[date]) -> None:
    assert rules.instalment_dates(first, 4, "month") == expected


def test_every_two_weeks_is_every_fourteen_days_across_month_ends_and_leap_days() -> None:
    dates = rules.instalment_dates(date(2028, 2, 15), 3, "2weeks")
    assert dates == [date(2028, 2, 15), date(2028, 2, 29), date(2028, 3, 14)]


def test_a_schedule_pairs_dates_and_amounts() -> None:
    plan = rules.schedule(10000, 3, "month", date(2027, 1, 31))
    assert [(item.due_on, item.amount_cents) for item in plan] == [
        (date(2027, 1, 31), 3333),
        (date(2027, 2, 28), 3333),
        (date(2027, 3, 31), 3334),
    ]


@pytest.mark.parametrize(
    ("policy", "total", "count", "first", "reason"),
    [
        (CONSUMER, 60000, 6, TODAY + timedelta(days=5), None),
        (CONSUMER, 60000, 7, TODAY + timedelta(days=5), "too_many_instalments"),
        (CONSUMER, 10000, 5, TODAY + timedelta(days=5), "instalment_too_small"),
        (CONSUMER, 300000, 6, TODAY + timedelta(days=5), "total_too_large"),
        (CONSUMER, 60000, 3, TODAY + timedelta(days=31), "first_too_late"),
        (CONSUMER, 60000, 3, TODAY + timedelta(days=30), None),
        (CONSUMER, 60000, 3, TODAY - timedelta(days=1), "first_in_past"),
        (CONSUMER, 1000, 1, TODAY, None),  # a single later payment, however small
        (BUSINESS, 60000, 6, TODAY + timedelta(days=5), "too_many_instalments"),
        (BUSINESS, 60000, 3, TODAY + timedelta(days=5), None),
        (BUSINESS, 25000, 3, TODAY + timedelta(days=5), "instalment_too_small"),
        (BUSINESS, 2000000, 3, TODAY + timedelta(days=5), "total_too_large"),
    ],
)
def test_policy_reason_codes(policy: rules.Policy, total: int, count: int, first: date, reason: str | None) -> None:
    proposal = rules.propose(policy, total, count, "month", first, TODAY)
    assert proposal.reason == reason and proposal.within_policy is (reason is None)
    assert proposal.total_cents == total
    assert reason is None or reason in rules.REASONS


def test_the_most_instalments_a_total_allows() -> None:
    assert rules.most_instalments(CONSUMER, 10000) == 4
    assert rules.most_instalments(CONSUMER, 1000) == 1
    assert rules.most_instalments(CONSUMER, 10_000_000) == 6
    assert rules.most_instalments(BUSINESS, 10_000_000) == 3
