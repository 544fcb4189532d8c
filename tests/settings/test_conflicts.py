"""Two administrators on the Settings page at once: a save never writes back what someone else changed since
the page was drawn. The one who saves last is told, sees the values that apply now, and can save again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portal import clock
from portal.settings.models import SettingVersion
from portal.settings.services import SettingsConflict, get_setting, set_settings
from tests.fixtures.factories import TEST_ACTOR

PAGE = "/staff/settings/"


class _FormReader(HTMLParser):
    """The fields of one form on a page, with the values a browser would send."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, {}
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = found.get("action") == self.action
        elif self.inside and tag == "input" and "name" in found:
            self.fields[found["name"]] = found.get("value", "")
        elif self.inside and tag == "textarea":
            self._textarea = found["name"]
            self.fields[self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data.lstrip("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self.inside = False


def _form(html: str, section: str = "creditor") -> dict[str, str]:
    reader = _FormReader(f"{PAGE}{section}")
    reader.feed(html)
    assert reader.fields, f"no {section} form on the page"
    return reader.fields


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _admin(app: Any, staff_login: Any, language: str, email: str) -> Any:
    staff = app.test_client()
    staff_login(staff, "admin", language=language, email=email)
    return staff


@pytest.mark.parametrize(
    ("language", "expected", "phone_label"),
    [
        ("en", "Someone else changed these settings while you were editing them", "Phone number"),
        ("nl", "Iemand anders heeft deze instellingen veranderd terwijl jij ermee bezig was", "Telefoonnummer"),
    ],
)
def test_an_admin_whose_page_is_out_of_date_is_told_and_the_other_admins_change_stays(
    app, staff_login, session, language, expected, phone_label
):
    ada = _admin(app, staff_login, language, "ada@example.com")
    bob = _admin(app, staff_login, "en", "bob@example.com")
    ada_form = _form(ada.get(PAGE).get_data(as_text=True))  # Ada opens the page first ...

    bob_form = _form(bob.get(PAGE).get_data(as_text=True))
    assert bob.post(f"{PAGE}creditor", data={**bob_form, "phone": "+31 30 987 6543"}).status_code == 302

    # ... and saves a new e-mail address; her form still holds the old phone number.
    refused = ada.post(f"{PAGE}creditor", data={**ada_form, "email": "hulp@zon.example"})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert expected in _text(page)
    assert phone_label in _text(page), "the message names what was changed"
    assert _form(page)["phone"] == "+31 30 987 6543", "the page shows the value that applies now"
    assert _form(page)["email"] == "klantenservice@zonnig.example"
    session.expire_all()
    assert get_setting(session, "creditor.phone") == "+31 30 987 6543"
    assert get_setting(session, "creditor.email") == "klantenservice@zonnig.example"
    assert session.scalars(select(SettingVersion.key)).all() == ["creditor.phone"]

    # From the page as it is now, her change goes through and Bob's stays.
    again = ada.post(f"{PAGE}creditor", data={**_form(page), "email": "hulp@zon.example"})
    assert again.status_code == 302
    session.expire_all()
    assert get_setting(session, "creditor.phone") == "+31 30 987 6543"
    assert get_setting(session, "creditor.email") == "hulp@zon.example"


def test_the_same_save_goes_through_when_nobody_changed_anything_in_between(app, staff_login, session):
    ada = _admin(app, staff_login, "en", "ada@example.com")
    form = _form(ada.get(PAGE).get_data(as_text=True))
    saved = ada.post(f"{PAGE}creditor", data={**form, "email": "hulp@zon.example"})
    assert saved.status_code == 302
    assert "Your changes have been saved." in ada.get(PAGE).get_data(as_text=True)
    assert get_setting(session, "creditor.email") == "hulp@zon.example"


def test_a_change_to_another_section_or_key_does_not_stop_a_save(app, staff_login, session):
    ada = _admin(app, staff_login, "en", "ada@example.com")
    bob = _admin(app, staff_login, "en", "bob@example.com")
    ada_page = ada.get(PAGE).get_data(as_text=True)

    bob_payments = _form(bob.get(PAGE).get_data(as_text=True), "payments")
    assert bob.post(f"{PAGE}payments", data={**bob_payments, "minimum_EUR": "15.00"}).status_code == 302
    # Bob also saves the e-mail address Ada is about to type: nothing of hers would undo his.
    bob_creditor = _form(bob.get(PAGE).get_data(as_text=True))
    assert bob.post(f"{PAGE}creditor", data={**bob_creditor, "email": "hulp@zon.example"}).status_code == 302

    saved = ada.post(f"{PAGE}creditor", data={**_form(ada_page), "email": "hulp@zon.example", "name": "Zon B.V."})
    assert saved.status_code == 302
    session.expire_all()
    assert get_setting(session, "creditor.name") == "Zon B.V."
    assert get_setting(session, "payments.partial_payment_minimum") == {"EUR": 1500}


def test_without_expected_versions_the_command_line_saves_as_before(session):
    set_settings(session, {"creditor.phone": "+31 20 111 1111"}, actor=TEST_ACTOR)
    assert set_settings(session, {"creditor.phone": "+31 20 222 2222"}, actor=TEST_ACTOR) == ["creditor.phone"]
    with pytest.raises(SettingsConflict) as conflict:
        set_settings(session, {"creditor.phone": "+31 20 333 3333"}, actor=TEST_ACTOR, expected_versions={})
    assert conflict.value.details == {"keys": ["creditor.phone"]}
    assert conflict.value.status == 409
    assert set_settings(
        session, {"creditor.phone": "+31 20 333 3333"}, actor=TEST_ACTOR, expected_versions={"creditor.phone": 2}
    ) == ["creditor.phone"]


@pytest.fixture()
def competing_save() -> Iterator[None]:
    """Another administrator's version lands between this save's check and its insert (the same instant)."""
    done = False

    def insert_first(session: Session, *_args: Any) -> None:
        nonlocal done
        mine = [obj for obj in session.new if isinstance(obj, SettingVersion)]
        if done or not mine:
            return
        done = True
        row = {"valid_from": clock.now(), "value": "+31 6 5555 5555", "changed_by": "bob@example.com", "note": None}
        session.connection().execute(
            SettingVersion.__table__.insert(), [{**row, "key": v.key, "version": v.version} for v in mine]
        )

    event.listen(Session, "before_flush", insert_first)
    yield
    event.remove(Session, "before_flush", insert_first)


def test_two_saves_at_the_same_instant_let_one_win_and_tell_the_other(app, staff_login, session, competing_save):
    ada = _admin(app, staff_login, "en", "ada@example.com")
    form = _form(ada.get(PAGE).get_data(as_text=True))
    refused = ada.post(f"{PAGE}creditor", data={**form, "phone": "+31 30 987 6543"})
    assert refused.status_code == 302
    page = _text(ada.get(PAGE).get_data(as_text=True))
    assert "Someone else saved these settings at the same moment. Check them and save again." in page
    assert "Your changes have been saved." not in page
    assert "+31 30 987 6543" not in page
