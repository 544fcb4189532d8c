"""Dates at the very ends of the calendar: the trail explains them instead of failing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent


def _date_errors(html: str) -> dict[str, list[str]]:
    return {
        name: re.findall(rf'<p class="error" id="{name}-error">([^<]+)</p>', html) for name in ("date_from", "date_to")
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [("date_from=0001-01-01", "date_from"), ("date_to=9999-12-31", "date_to")],
)
def test_a_date_too_far_away_is_explained_at_the_date(client, staff_login, query, field):
    staff_login(client, "supervisor", language="en")
    response = client.get(f"/staff/audit/?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _date_errors(html)[field] == ["This date is out of range. Please choose a date closer to today."]
    assert 'id="error-summary"' in html and "<table" not in html


def test_both_dates_too_far_away_are_both_explained_in_dutch(client, staff_login):
    staff_login(client, "supervisor", language="nl")
    html = client.get("/staff/audit/?date_from=0001-01-01&date_to=9999-12-31").get_data(as_text=True)
    message = "Deze datum ligt te ver weg. Kies een datum die dichter bij vandaag ligt."
    assert _date_errors(html) == {"date_from": [message], "date_to": [message]}


def test_dates_just_inside_the_calendar_still_filter(client, staff_login):
    staff_login(client, "supervisor", language="en")
    response = client.get("/staff/audit/?date_from=0001-01-02&date_to=9999-12-30")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _date_errors(html) == {"date_from": [], "date_to": []}
    assert "staff.logged_in" in html, "the trail is shown"


def test_exporting_with_a_date_too_far_away_goes_back_to_the_form(client, staff_login, session):
    staff_login(client, "supervisor", language="en")
    response = client.get("/staff/audit/export.csv?date_to=9999-12-31")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/audit/?date_to=9999-12-31"
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.exported")).all() == []
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _date_errors(html)["date_to"] == ["This date is out of range. Please choose a date closer to today."]
