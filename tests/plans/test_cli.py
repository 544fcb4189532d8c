"""``flask --app portal plans preview ... --json`` in the issue's shape, its bad input, and ``plans run``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import time_machine

from portal.plans.models import PaymentPlan
from tests.plans.lifecycle_support import BIG, agree_plan, in_app, mails, moment  # noqa: F401 (in_app: a fixture)


def _preview(app, *extra: str):
    return app.test_cli_runner().invoke(args=["plans", "preview", *extra])


def test_preview_json_is_one_object_in_the_issues_shape(app) -> None:
    result = _preview(
        app,
        "--total",
        "100.00",
        "--instalments",
        "3",
        "--every",
        "month",
        "--first",
        "2027-01-31",
        "--today",
        "2027-01-10",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "within_policy": True,
        "reason": None,
        "instalments": [
            {"date": "2027-01-31", "amount": "33.33"},
            {"date": "2027-02-28", "amount": "33.33"},
            {"date": "2027-03-31", "amount": "33.34"},
        ],
    }


def test_preview_outside_the_policy_names_the_reason(app) -> None:
    result = _preview(
        app,
        "--total",
        "1234.56",
        "--instalments",
        "12",
        "--every",
        "2weeks",
        "--first",
        "2027-01-20",
        "--today",
        "2027-01-10",
        "--json",
    )
    answer = json.loads(result.output)
    assert answer["within_policy"] is False and answer["reason"] == "too_many_instalments"
    assert len(answer["instalments"]) == 12 and answer["instalments"][1]["date"] == "2027-02-03"
    assert sum(round(float(item["amount"]) * 100) for item in answer["instalments"]) == 123456


def test_preview_for_a_business_and_on_todays_frozen_date(app) -> None:
    with time_machine.travel(datetime(2027, 1, 10, 9, tzinfo=UTC), tick=False):
        result = _preview(
            app,
            "--total",
            "600,00",
            "--instalments",
            "3",
            "--every",
            "month",
            "--first",
            "2027-01-09",
            "--kind",
            "business",
            "--json",
        )
    assert json.loads(result.output)["reason"] == "first_in_past"


@pytest.mark.parametrize(
    ("total", "instalments", "message"),
    [
        ("abc", "3", "--total"),
        ("١٢,٥٠", "3", "--total"),
        ("100.00", "0", "--instalments must be from 1 to"),
        ("0.02", "3", "too small"),
    ],
)
def test_bad_input_exits_with_2_and_says_why(app, total: str, instalments: str, message: str) -> None:
    result = _preview(
        app, "--total", total, "--instalments", instalments, "--every", "month", "--first", "2027-01-31", "--json"
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_dates_exit_with_2(app) -> None:
    result = _preview(app, "--total", "10", "--instalments", "1", "--every", "month", "--first", "31-01-2027")
    assert result.exit_code == 2 and "--first must be a date" in result.output
    result = app.test_cli_runner().invoke(args=["plans", "run", "--at", "tomorrow"])
    assert result.exit_code == 2 and "--at must be" in result.output


@pytest.mark.usefixtures("in_app")
def test_plans_run_prints_a_report_and_sends_nothing_twice(app, session, create_customer, create_invoice) -> None:
    customer = create_customer(language="en")
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    with time_machine.travel(moment(date(2027, 1, 10)), tick=False):
        plan = agree_plan(session, customer, [invoice], first=date(2027, 1, 20))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["plans", "run", "--at", "2027-01-17T10:00"])
    assert result.exit_code == 0, result.output
    assert "Plans run at 2027-01-17T09:00+00:00" in result.output and "reminded: 1" in result.output
    again = runner.invoke(args=["plans", "run", "--at", "2027-01-17T11:00"])
    assert "reminded: 0" in again.output
    assert len(mails(session, customer, "plan_instalment_reminder")) == 1
    missed = runner.invoke(args=["plans", "run", "--at", "2027-01-21T10:00"])
    assert "missed: 1" in missed.output
    lapsed = runner.invoke(args=["plans", "run", "--at", "2027-01-28"])
    assert "lapsed: 1" in lapsed.output
    session.expire_all()
    assert session.get(PaymentPlan, plan.id).status == "lapsed"
