"""The staff preview: the inputs of ``flask plans preview``, the same verdict and instalments (rules.propose
under the policy in force), and a clear message for input that is not an amount, a count or a date."""

from __future__ import annotations

import json

import pytest
import time_machine

from portal.i18n import force_locale
from portal.settings.plan_settings import plan_limit_key
from portal.settings.services import set_settings
from tests.fixtures.factories import TEST_ACTOR
from tests.plans.staff_support import NOW, main_of, text_of

PREVIEW = "/staff/plans/preview"


@pytest.fixture()
def staff(client, staff_login):
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="en")
    return client


def _preview(client, **query) -> tuple[int, str]:
    with time_machine.travel(NOW, tick=False):
        answer = client.get(PREVIEW, query_string=query)
    return answer.status_code, text_of(main_of(answer.get_data(as_text=True)))


def test_the_empty_page_shows_the_form(staff):
    status, page = _preview(staff)
    assert status == 200 and "Total" in page and "Show the schedule" in page and "Result" not in page


def test_inside_the_policy_the_same_schedule_as_the_cli(staff, app, session):
    status, page = _preview(staff, total="1234,56", instalments="3", every="month", first="2026-12-31")
    assert status == 200
    assert "Inside the policy: approved at once" in page
    assert "31 Dec 2026 €411.52" in page and "31 Jan 2027 €411.52" in page and "28 Feb 2027 €411.52" in page
    with app.app_context(), time_machine.travel(NOW, tick=False):
        cli = app.test_cli_runner().invoke(
            args=[
                "plans",
                "preview",
                "--total",
                "1234.56",
                "--instalments",
                "3",
                "--every",
                "month",
                "--first",
                "2026-12-31",
                "--json",
                "--today",
                "2026-12-02",
            ]
        )
    printed = json.loads(cli.output)
    assert printed["within_policy"] is True
    assert [item["amount"] for item in printed["instalments"]] == ["411.52", "411.52", "411.52"]


def test_outside_the_policy_says_why_in_words_and_in_the_code(staff):
    status, page = _preview(staff, total="1000", instalments="4", every="2weeks", first="2026-12-10", kind="business")
    assert status == 200
    assert "Outside the policy, so it goes to staff" in page
    assert "More instalments than the policy allows (at most 3)." in page and "(too_many_instalments)" in page
    assert "10 Dec 2026 €250.00" in page and "7 Jan 2027 €250.00" in page


def test_a_first_date_in_the_past_is_a_verdict_not_an_error(staff):
    status, page = _preview(staff, total="300", instalments="2", every="month", first="2026-11-01")
    assert status == 200 and "The first instalment is in the past." in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"total": "\u0661\u0662,\u0665\u0660"}, "Enter the amount in the digits 0 to 9, for example 25.00."),
        ({"total": "twelve"}, "Enter the amount in the digits 0 to 9, for example 25.00."),
        ({"total": ""}, "Enter an amount, for example 25.00."),
        ({"total": "12,505"}, "Use at most two digits after the decimal point"),
        ({"instalments": "0"}, "Choose from 1 to 60 instalments."),
        ({"instalments": "\uff13"}, "Choose from 1 to 60 instalments."),
        ({"first": "31/01/2027"}, "Enter the date of the first payment, such as 2027-01-31."),
        ({"total": "0,02", "instalments": "3"}, "The total is too small for that many instalments."),
        ({"every": "weekly"}, "Choose how often you pay"),
        ({"kind": "government"}, "Choose consumer or business."),
    ],
)
def test_bad_input_gets_a_clear_message_and_no_schedule(staff, query, message):
    good = {"total": "100", "instalments": "2", "every": "month", "first": "2027-01-31", "kind": "consumer"}
    status, page = _preview(staff, **{**good, **query})
    assert status == 200
    assert message in page and "Please check the form" in page
    assert "Result" not in page


def test_the_preview_in_dutch(app, client, staff_login):
    with time_machine.travel(NOW, tick=False):
        staff_login(client, "viewer", language="nl")
        page = text_of(
            main_of(
                client.get(PREVIEW, query_string={"total": "abc", "instalments": "2", "first": "2027-01-31"}).get_data(
                    as_text=True
                )
            )
        )
    with app.test_request_context(), force_locale("nl"):
        from portal.errors import message_for
        from portal.money import AmountProblem

        expected = message_for(AmountProblem("not_a_number"))
    assert expected in page


def test_the_preview_uses_the_policy_in_force(staff, session):
    query = {"total": "605", "instalments": "7", "every": "month", "first": "2026-12-15"}
    assert "(too_many_instalments)" in _preview(staff, **query)[1]
    with time_machine.travel(NOW, tick=False):  # in force at the preview's moment, whatever today is
        set_settings(session, {plan_limit_key("consumer", "max_instalments"): "8"}, actor=TEST_ACTOR)
        session.commit()
    assert "Inside the policy" in _preview(staff, **query)[1]
