"""Settings > Disputes: the deadlines, the credit-note amount (typed as an amount) and the canned replies in
both languages; saved answers appear in the reply form in the debtor's language, with or without JavaScript."""

from __future__ import annotations

import re
from html import unescape

import pytest
import time_machine
from sqlalchemy import select

from portal.settings.models import SettingVersion
from tests.disputes.staff_support import NOW, opened, text_of, token_of
from tests.fixtures.factories import csrf_token

PAGE = "/staff/settings/"
SAVE = f"{PAGE}disputes"
ENGLISH = (
    "Checking\nWe are checking your meter reading.\n---\nCorrect\nThe invoice is correct, because the reading matches."
)
DUTCH = "Controle\nWe controleren je meterstand.\n---\nKlopt\nDe factuur klopt: de meterstand komt overeen."


def _shown_form(staff) -> dict[str, str]:
    html = staff.get(PAGE).get_data(as_text=True)
    form_html = html.split(f'action="{SAVE}"', 1)[1].split("</form>", 1)[0]
    fields = {
        name: unescape(value)
        for name, value in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', form_html)
    }
    for name, value in re.findall(r'<textarea[^>]*name="([a-z_]+)"[^>]*>\s*([^<]*)</textarea>', form_html):
        fields[name] = unescape(value)
    versions = re.search(r'id="disputes-versions" name="versions" type="hidden" value="([^"]*)"', form_html)
    assert versions, "the form carries the versions it was drawn with"
    fields["versions"] = unescape(versions.group(1))
    fields["csrf_token"] = csrf_token(staff, PAGE)
    return fields


def _versions(session) -> dict[str, SettingVersion]:
    session.expire_all()
    found = session.scalars(select(SettingVersion).where(SettingVersion.key.like("disputes.%")))
    return {version.key: version for version in found}


@pytest.fixture()
def admin(app, staff_login):
    staff = app.test_client()
    staff_login(staff, "admin", language="nl", email="ada@example.com")
    return staff


def test_the_section_shows_the_values_in_force(admin) -> None:
    fields = _shown_form(admin)
    assert fields["first_response_days"] == "2" and fields["resolution_days"] == "10"
    assert fields["supervisor_credit_above"] == "250,00", "an amount, as typed in Dutch"
    assert fields["canned_replies_en"] == "" and fields["canned_replies_nl"] == ""


def test_saved_canned_replies_appear_in_the_reply_form_in_the_debtors_language(
    app, session, staff_login, create_customer, energy_invoice, dispute_on
) -> None:
    admin = app.test_client()
    with time_machine.travel(NOW, tick=False):  # in force at the moment the agent looks, whatever today is
        staff_login(admin, "admin", language="nl", email="ada@example.com")
        form = {
            **_shown_form(admin),
            "supervisor_credit_above": "500,00",
            "canned_replies_en": ENGLISH,
            "canned_replies_nl": DUTCH,
        }
        saved = admin.post(SAVE, data=form)
    assert saved.status_code == 302, text_of(saved.get_data(as_text=True))[:2000]
    versions = _versions(session)
    assert set(versions) == {
        "disputes.supervisor_credit_above",
        "disputes.canned_replies_en",
        "disputes.canned_replies_nl",
    }, "only what changed"
    assert versions["disputes.supervisor_credit_above"].value == 50000

    dutch = opened(dispute_on, energy_invoice(create_customer(language="nl")), days_ago=1)
    english = opened(dispute_on, energy_invoice(create_customer(language="en")), days_ago=1)
    agent = app.test_client()
    with time_machine.travel(NOW, tick=False):
        staff_login(agent, "agent", language="en")
        nl_page = agent.get(f"/staff/disputes/{dutch.id}").get_data(as_text=True)
        en_page = agent.get(f"/staff/disputes/{english.id}").get_data(as_text=True)
        # Without JavaScript: "Use this answer" reloads the page with the second answer in the box.
        prefilled = agent.get(f"/staff/disputes/{dutch.id}?canned=1").get_data(as_text=True)
        nonsense = agent.get(f"/staff/disputes/{dutch.id}?canned=7")
    assert '<option value="0" data-text="We controleren je meterstand.">Controle</option>' in nl_page
    assert ">Klopt</option>" in nl_page and "Checking" not in nl_page
    assert ">Checking</option>" in en_page and ">Correct</option>" in en_page and "Controle" not in en_page
    box = re.search(r'<textarea[^>]*name="reply"[^>]*>\s*([^<]*)</textarea>', prefilled).group(1)
    assert unescape(box) == "De factuur klopt: de meterstand komt overeen."
    assert nonsense.status_code == 200
    assert re.search(r'<textarea[^>]*name="reply"[^>]*>\s*</textarea>', nonsense.get_data(as_text=True))

    # Sent as a reply, the text is the debtor's to read.
    with time_machine.travel(NOW, tick=False):
        response = agent.post(
            f"/staff/disputes/{dutch.id}/reply",
            data={"csrf_token": token_of(prefilled), "reply": unescape(box)},
        )
    assert response.status_code == 303


def test_a_bad_value_is_explained_and_nothing_is_saved(admin, session) -> None:
    answer = admin.post(SAVE, data={**_shown_form(admin), "first_response_days": "0", "canned_replies_en": ENGLISH})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'class="error-summary"' in html and 'id="first_response_days-error"' in html
    assert _versions(session) == {}


@pytest.mark.parametrize("role", ["viewer", "agent", "supervisor"])
def test_only_administrators_change_them(app, session, staff_login, role) -> None:
    staff = app.test_client()
    staff_login(staff, role, language="en")
    token = csrf_token(staff, "/staff/account")
    assert staff.post(SAVE, data={"csrf_token": token, "first_response_days": "5"}).status_code == 403
    assert _versions(session) == {}
