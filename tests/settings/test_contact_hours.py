"""Contact hours under Settings: an administrator changes when customers may be contacted, the change is a
new version (the old hours stay in force for the past), and a window that is no window is refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.audit.models import AuditEvent
from portal.business_calendar import contact_hours
from portal.settings.models import SettingVersion
from portal.settings.services import InvalidSettings, get_setting, set_settings
from tests.fixtures.factories import TEST_ACTOR, csrf_token

PAGE = "/staff/settings/"
DEFAULT = {"weekdays": "08:00-21:00", "saturday": "09:00-17:00", "sunday": None}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _contact_form(staff, **windows: str) -> dict[str, str]:
    shown = {"weekdays": "08:00-21:00", "saturday": "09:00-17:00", "sunday": ""}
    return {**shown, **windows, "csrf_token": csrf_token(staff, PAGE)}


@pytest.fixture()
def admin(app, staff_login):
    staff = app.test_client()
    staff_login(staff, "admin", language="en", email="ada@example.com")
    return staff


def test_the_page_shows_the_hours_in_force_with_what_they_mean(admin, session):
    page = _text(admin.get(PAGE).get_data(as_text=True))
    assert "Contact hours" in page
    assert "These are the customer's local times." in page
    assert "Public holidays in the customer's country (NL, BE) are always skipped" in page
    assert "Monday to Friday" in page and "Saturday" in page and "Sunday" in page
    html = admin.get(PAGE).get_data(as_text=True)
    assert 'value="08:00-21:00"' in html and 'value="09:00-17:00"' in html


def test_the_admin_saves_new_hours_and_they_are_in_force_from_then_on(admin, session, frozen_clock):
    before = clock.now()
    frozen_clock.shift(timedelta(minutes=5))
    saved = admin.post(f"{PAGE}contact", data=_contact_form(admin, weekdays="9:00 - 18:00", saturday=""))
    assert saved.status_code == 302
    assert "Your changes have been saved." in admin.get(PAGE).get_data(as_text=True)

    assert get_setting(session, "contact.hours") == {"weekdays": "09:00-18:00", "saturday": None, "sunday": None}
    assert get_setting(session, "contact.hours", at=before) == DEFAULT
    assert contact_hours(session, at=before).windows[5] is not None, "Saturdays were open before"
    assert contact_hours(session).windows[5] is None
    assert 'value="09:00-18:00"' in admin.get(PAGE).get_data(as_text=True)

    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "setting.changed")).one()
    assert (event.actor_id, event.subject_id) == ("ada@example.com", "contact.hours")
    assert event.details == {
        "old": DEFAULT,
        "new": {"weekdays": "09:00-18:00", "saturday": None, "sunday": None},
    }
    history = _text(admin.get(f"{PAGE}history?key=contact.hours").get_data(as_text=True))
    assert "When we may contact customers" in history
    assert "Monday to Friday: 09:00-18:00; Saturday: no contact; Sunday: no contact" in history
    assert "ada@example.com" in history


def test_saving_the_hours_unchanged_writes_no_version(admin, session):
    assert admin.post(f"{PAGE}contact", data=_contact_form(admin)).status_code == 302
    assert "Nothing was changed." in admin.get(PAGE).get_data(as_text=True)
    assert session.scalars(select(SettingVersion)).all() == []


@pytest.mark.parametrize(
    ("language", "window", "expected"),
    [
        ("en", "21:00-08:00", "The start time must come before the end time, such as 08:00-21:00."),
        ("en", "8 till 5", "“8 till 5” is not a time window. Enter a start and an end time, such as 08:00-21:00"),
        ("nl", "21:00-08:00", "De begintijd moet vóór de eindtijd liggen, zoals bij 08:00-21:00."),
        ("nl", "8 till 5", "“8 till 5” is geen tijdvak. Vul een begin- en eindtijd in, zoals 08:00-21:00."),
    ],
)
def test_a_window_that_is_no_window_is_explained_in_the_admins_language_and_nothing_is_saved(
    app, staff_login, session, language, window, expected
):
    staff = app.test_client()
    staff_login(staff, "admin", language=language)
    refused = staff.post(f"{PAGE}contact", data=_contact_form(staff, weekdays=window, sunday="10:00-14:00"))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert expected in page
    assert f'value="{window}"' in page, "what was typed stays in the field"
    assert session.scalars(select(SettingVersion)).all() == []
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "setting.changed")).all() == []


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ({"weekdays": "8:30-20:00", "saturday": " 10:00 – 16:00 ", "sunday": ""}, "08:30-20:00 10:00-16:00 None"),
        ({"weekdays": "08:00-21:00"}, "08:00-21:00 None None"),
        (DEFAULT, "08:00-21:00 09:00-17:00 None"),
    ],
)
def test_the_hours_are_stored_in_one_form(session, raw, stored):
    set_settings(session, {"contact.hours": raw}, actor=TEST_ACTOR)
    value = get_setting(session, "contact.hours")
    assert " ".join(str(value[day]) for day in ("weekdays", "saturday", "sunday")) == stored


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ({"weekdays": "21:00-08:00"}, "contact_window_order"),
        ({"weekdays": "09:00-09:00"}, "contact_window_order"),
        ({"saturday": "8 till 5"}, "invalid_contact_window"),
        ({"sunday": "24:00-25:00"}, "invalid_contact_window"),
        ({"weekdays": "08:00:00-21:00:00"}, "invalid_contact_window"),
        ({"holidays": "10:00-12:00"}, "invalid_structure"),
        ("08:00-21:00", "invalid_structure"),
        ({"weekdays": "", "saturday": None, "sunday": ""}, "no_contact_at_all"),
    ],
)
def test_hours_that_are_no_window_are_refused_and_nothing_is_written(session, raw, code):
    with pytest.raises(InvalidSettings) as refused:
        set_settings(session, {"contact.hours": raw}, actor=TEST_ACTOR)
    assert refused.value.problems["contact.hours"].code == code
    assert session.scalars(select(SettingVersion)).all() == []


def test_the_command_line_sets_the_hours_as_json(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["settings", "set", "contact.hours", '{"weekdays": "09:00-17:00", "sunday": null}'])
    assert result.exit_code == 0, result.output
    assert get_setting(session, "contact.hours") == {"weekdays": "09:00-17:00", "saturday": None, "sunday": None}
    refused = runner.invoke(args=["settings", "set", "contact.hours", '{"weekdays": "17:00-09:00"}'])
    assert refused.exit_code != 0 and "The start time must come before the end time" in refused.output
