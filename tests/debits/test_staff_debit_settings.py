"""The Direct debit section of the Settings page: administrators set the five rules as a new settings version;
bad input is explained next to its field and nothing is saved; a change takes effect on the next preview."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.debits.policy import debit_policy
from portal.settings.models import SettingVersion
from portal.settings.services import set_settings
from tests.debits.staff_support import text_of
from tests.fixtures.factories import TEST_ACTOR, csrf_token

PAGE = "/staff/settings/"
SAVE = f"{PAGE}debits"


def _shown_form(staff):
    """The section's fields as the page draws them (what a browser sends back unchanged)."""
    html = staff.get(PAGE).get_data(as_text=True)
    form_html = html.split(f'action="{SAVE}"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', form_html))
    versions = re.search(r'id="debits-versions" name="versions" type="hidden" value="([^"]*)"', form_html)
    assert versions, "the form carries the versions it was drawn with"
    fields["versions"] = versions.group(1).replace("&#34;", '"')
    fields["csrf_token"] = csrf_token(staff, PAGE)
    return fields


def _versions(session):
    session.expire_all()
    return session.scalars(select(SettingVersion).where(SettingVersion.key.like("debits.%"))).all()


@pytest.fixture()
def admin(app, staff_login):
    def make(language="en"):
        staff = app.test_client()
        staff_login(staff, "admin", language=language, email=f"ada-{language}@example.com")
        return staff

    return make


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_section_shows_the_rules_in_force(admin, language):
    staff = admin(language)
    html = staff.get(PAGE).get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    fields = _shown_form(staff)
    assert {key: fields[key] for key in fields if key.endswith(("days", "year"))} == {
        "notice_days": "14",
        "allowed_days": "1-28",
        "changes_per_year": "2",
        "failed_grace_days": "14",
        "retry_window_days": "10",
    }


def test_the_admin_saves_new_rules_as_a_new_version(admin, session):
    staff = admin()
    form = {**_shown_form(staff), "allowed_days": "1, 15, 25", "changes_per_year": "3"}
    saved = staff.post(SAVE, data=form)
    assert saved.status_code == 302
    landing = staff.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Your changes have been saved." in landing
    assert 'value="1, 15, 25"' in landing
    versions = {version.key: version for version in _versions(session)}
    assert set(versions) == {"debits.allowed_days", "debits.changes_per_year"}, "only what changed"
    assert versions["debits.allowed_days"].value == [1, 15, 25]
    assert versions["debits.changes_per_year"].changed_by == "ada-en@example.com"
    policy = debit_policy(session)
    assert (policy.allowed_days, policy.changes_per_year) == ((1, 15, 25), 3)
    history = text_of(staff.get(f"{PAGE}history?key=debits.allowed_days").get_data(as_text=True))
    assert "1, 15, 25" in history and "ada-en@example.com" in history


def test_saving_unchanged_changes_nothing(admin, session):
    staff = admin()
    saved = staff.post(SAVE, data=_shown_form(staff))
    assert "Nothing was changed." in staff.get(saved.headers["Location"]).get_data(as_text=True)
    assert _versions(session) == []


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("allowed_days", "0-40", "Enter days of the month from 1 to 31, separated by commas or as a range"),
        ("allowed_days", "", "Enter days of the month from 1 to 31"),
        ("allowed_days", "1-28, x", "Enter days of the month from 1 to 31"),
        ("notice_days", "30", "Enter a whole number from 1 to 14."),
        ("changes_per_year", "two", "Enter a whole number from 0 to 12."),
        ("failed_grace_days", "-1", "Enter a whole number from 0 to 60."),
        ("retry_window_days", "0", "Enter a whole number from 1 to 30."),
    ],
)
def test_bad_input_is_explained_at_its_field_and_nothing_is_saved(admin, session, field, typed, message):
    staff = admin()
    form = {**_shown_form(staff), "changes_per_year": "5", field: typed}
    answer = staff.post(SAVE, data=form)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-error"' in html and f'href="#{field}"' in html, "next to the field and in the summary"
    assert f'value="{typed}"' in html, "what was typed stays, to correct it"
    assert _versions(session) == []


def test_bad_input_in_dutch_keeps_the_dutch_page(admin, session):
    staff = admin("nl")
    answer = staff.post(SAVE, data={**_shown_form(staff), "allowed_days": "0-40"})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert '<html lang="nl">' in html and 'id="allowed_days-error"' in html
    assert _versions(session) == []


def test_a_save_over_someone_elses_change_is_refused_and_shows_what_applies_now(admin, session):
    staff = admin()
    form = {**_shown_form(staff), "notice_days": "10"}
    set_settings(session, {"debits.notice_days": "7"}, actor=TEST_ACTOR)  # a colleague, meanwhile
    session.commit()
    answer = staff.post(SAVE, data=form)
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert re.search(r'id="notice_days" name="notice_days" type="text" value="7"', html), "what applies now"
    assert "Someone else changed these settings" in html
    assert debit_policy(session).notice_days == 7


@pytest.mark.parametrize("role", ["viewer", "agent", "supervisor"])
def test_only_administrators_change_the_rules(app, staff_login, session, role):
    staff = app.test_client()
    staff_login(staff, role, language="en")
    token = csrf_token(staff, "/staff/account")
    answer = staff.post(SAVE, data={"csrf_token": token, "notice_days": "7", "allowed_days": "1-28"})
    assert answer.status_code == 403
    assert _versions(session) == []


def test_a_save_without_the_csrf_token_is_refused(admin, session):
    staff = admin("nl")
    form = {key: value for key, value in _shown_form(staff).items() if key != "csrf_token"}
    answer = staff.post(SAVE, data={**form, "notice_days": "7"})
    assert answer.status_code == 400
    assert '<html lang="nl">' in answer.get_data(as_text=True)
    assert _versions(session) == []


def test_new_allowed_days_apply_to_the_next_preview_on_a_customer_page(
    admin, app, staff_login, session, create_customer, create_direct_debit
):
    staff = admin()
    staff.post(SAVE, data={**_shown_form(staff), "allowed_days": "1, 15, 25"})
    customer = create_customer()
    create_direct_debit(customer, day=1, first_period="2027-01")
    agent = app.test_client()
    staff_login(agent, "agent", language="en")
    html = agent.get(f"/staff/customers/{customer.id}?debit_day=20").get_data(as_text=True)
    assert "Days the customer may choose: 1, 15, 25." in html
    assert "That day cannot be chosen." in html
