"""``flask --app portal debits preview ... --json`` and ``debits collect``: one JSON object, the page's rules."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import time_machine

from portal.debits.models import Debit


def test_preview_for_a_debtor_on_the_1st_moving_to_the_25th(app) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "debits",
            "preview",
            "--current-day",
            "1",
            "--day",
            "25",
            "--today",
            "2026-12-01",
            "--amount",
            "84.70",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["allowed"] is True and answer["reason"] is None
    assert answer["before"] == [
        {"period": "2026-12", "date": "2026-12-01", "amount": "84.70"},
        {"period": "2027-01", "date": "2027-01-04", "amount": "84.70"},
        {"period": "2027-02", "date": "2027-02-01", "amount": "84.70"},
    ]
    assert [debit["date"] for debit in answer["after"]] == ["2026-12-01", "2027-01-25", "2027-02-25"]


def test_preview_refuses_a_day_outside_the_allowed_ones(app) -> None:
    result = app.test_cli_runner().invoke(
        args=["debits", "preview", "--current-day", "1", "--day", "30", "--today", "2026-12-01", "--json"]
    )
    assert json.loads(result.output)["reason"] == "day_not_allowed"


def test_preview_for_a_customer_and_bad_arguments(app, session, create_customer, create_direct_debit) -> None:
    customer = create_customer(external_ref="DD-1")
    create_direct_debit(customer, day=25, first_period="2027-01", amount_cents=1234)
    result = app.test_cli_runner().invoke(
        args=["debits", "preview", "DD-1", "--day", "1", "--today", "2026-12-01", "--json"]
    )
    answer = json.loads(result.output)
    assert answer["before"][0] == {"period": "2027-01", "date": "2027-01-25", "amount": "12.34"}
    assert answer["after"][0]["date"] == "2027-01-04"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["debits", "preview", "NOPE", "--day", "1"]).exit_code == 2
    both = runner.invoke(args=["debits", "preview", "DD-1", "--current-day", "1", "--day", "2"])
    assert both.exit_code == 2 and "not both" in both.output
    bad_day = runner.invoke(args=["debits", "preview", "DD-1", "--day", "1", "--today", "1-12-2026"])
    assert bad_day.exit_code == 2 and "--today" in bad_day.output


def test_collect_twice_collects_once(app, session, create_customer, create_invoice, create_direct_debit) -> None:
    customer = create_customer()
    create_direct_debit(customer, day=4, first_period="2027-01")
    create_invoice(customer, issue_date=date(2026, 12, 15), due_date=date(2027, 1, 31), period_start=date(2027, 1, 1))
    runner = app.test_cli_runner()
    with time_machine.travel(datetime(2026, 12, 15, 9, tzinfo=UTC), tick=False):
        first = runner.invoke(args=["debits", "collect"])
        assert "pre-notified: 1" in first.output, first.output
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=UTC), tick=False):
        collected = runner.invoke(args=["debits", "collect"])
        assert "handed to the collector (paid at once, or pending at the bank or provider): 1" in collected.output, (
            collected.output
        )
        again = runner.invoke(args=["debits", "collect", "--at", "2027-01-04T10:00"])
        assert "handed to the collector (paid at once, or pending at the bank or provider): 0" in again.output
        assert "Today so far, all runs together: 1 collected, 0 failed." in again.output
    session.expire_all()
    assert [debit.state for debit in session.query(Debit).filter_by(customer_id=customer.id)] == ["collected"]
    assert runner.invoke(args=["debits", "collect", "--at", "yesterday"]).exit_code == 2
