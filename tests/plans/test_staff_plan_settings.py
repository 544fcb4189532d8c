"""Settings > Payment plans: every plans.* key of the registry on the page; an administrator saves a new
version (amounts typed as people type them), a bad value is explained next to its field and nothing is saved,
and only administrators reach it."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from portal.plans.policy import plan_policy
from portal.settings.models import SettingVersion
from portal.settings.plan_settings import PLAN_PREFIX
from portal.settings.registry import keys_with_prefix
from tests.fixtures.factories import csrf_token
from tests.plans.staff_support import text_of

PAGE = "/staff/settings/"
SAVE = f"{PAGE}plans"


def _shown_form(staff) -> dict[str, str]:
    """The section's fields as the page draws them (what a browser sends back unchanged)."""
    html = staff.get(PAGE).get_data(as_text=True)
    form_html = html.split(f'action="{SAVE}"', 1)[1].split("</form>", 1)[0]
    fields = {
        name: unescape(value) for name, value in re.findall(r'name="([a-zA-Z_]+)"[^>]*value="([^"]*)"', form_html)
    }
    for name, value in re.findall(r'checked[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', form_html):
        fields[name] = value
    for name, value in re.findall(
        r'<input[^>]*name="([a-z_]+)"[^>]*type="radio"[^>]*value="([^"]*)"[^>]*checked', form_html
    ):
        fields[name] = value
    for name, value in re.findall(r'<textarea[^>]*name="([A-Za-z_]+)"[^>]*>\s*([^<]*)</textarea>', form_html):
        fields[name] = unescape(value)
    versions = re.search(r'id="plans-versions" name="versions" type="hidden" value="([^"]*)"', form_html)
    assert versions, "the form carries the versions it was drawn with"
    fields["versions"] = unescape(versions.group(1))
    fields["csrf_token"] = csrf_token(staff, PAGE)
    return fields


def _versions(session):
    session.expire_all()
    return session.scalars(select(SettingVersion).where(SettingVersion.key.like("plans.%"))).all()


@pytest.fixture()
def admin(app, staff_login):
    def make(language="en"):
        staff = app.test_client()
        staff_login(staff, "admin", language=language, email=f"ada-{language}@example.com")
        return staff

    return make


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_section_has_every_plan_setting_with_the_value_in_force(admin, language):
    staff = admin(language)
    html = staff.get(PAGE).get_data(as_text=True)
    assert html.count(f'action="{SAVE}"') == 1 and re.search(r"<title>[^<]+ - Staff|<title>[^<]+ - Medewerkers", html)
    fields = _shown_form(staff)
    expected = {key.removeprefix(PLAN_PREFIX) for key in keys_with_prefix(PLAN_PREFIX)}
    assert expected <= set(fields), expected - set(fields)
    amount = "25,00" if language == "nl" else "25.00"
    assert fields["consumer_min_instalment"] == amount and fields["consumer_max_instalments"] == "6"
    assert fields["business_max_instalments"] == "3" and fields["invoices"] == "open" and fields["interest"] == "none"
    assert fields["debt_help_NL"] == "" and fields["promise_max_days"] == "14"


def test_the_admin_saves_a_new_version_and_the_policy_follows(admin, session):
    staff = admin()
    help_text = "Bel gratis met de gemeente: 14 020.\nOf kijk op geldfit.nl."
    form = {
        **_shown_form(staff),
        "consumer_max_instalments": "9",
        "consumer_min_instalment": "20,00",
        "interest": "statutory",
        "debt_help_NL": help_text,
    }
    saved = staff.post(SAVE, data=form)
    assert saved.status_code == 302, text_of(saved.get_data(as_text=True))[:3000]
    landing = staff.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Your changes have been saved." in landing
    versions = {version.key: version for version in _versions(session)}
    assert set(versions) == {
        "plans.consumer_max_instalments",
        "plans.consumer_min_instalment",
        "plans.interest",
        "plans.debt_help_NL",
    }, "only what changed"
    assert versions["plans.consumer_min_instalment"].value == 2000
    assert versions["plans.interest"].changed_by == "ada-en@example.com"
    policy = plan_policy(session)
    consumer = policy.for_kind("consumer")
    assert (consumer.max_instalments, consumer.min_instalment_cents, policy.interest) == (9, 2000, "statutory")
    assert 'value="9"' in landing and "geldfit.nl" in landing


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("consumer_max_instalments", "\u0661\u0662", "Enter a whole number from 1 to 36."),
        ("consumer_max_instalments", "0", "Enter a whole number from 1 to 36."),
        # A required amount: the part-payment minimum's "or leave the field empty" would be wrong here.
        ("business_min_instalment", "ten", "Enter an amount such as 25.00."),
        ("business_min_instalment", "0,50", "Enter an amount from €1.00 to €10,000.00."),
        ("grace_days", "", "Enter a whole number from 1 to 30."),
        ("invoices", "all", "Choose one of the options."),
    ],
)
def test_a_bad_value_shows_the_message_and_changes_nothing(admin, session, field, value, message):
    staff = admin()
    form = {**_shown_form(staff), "consumer_max_instalments": "9", field: value}
    answer = staff.post(SAVE, data=form)
    assert answer.status_code == 400
    page = text_of(answer.get_data(as_text=True))
    assert message in page and "Please check the form" in page
    assert _versions(session) == [], "nothing is saved, not even the good value beside it"


@pytest.mark.parametrize("role", ["viewer", "agent", "supervisor"])
def test_only_administrators_change_the_plan_policy(app, session, staff_login, role):
    staff = app.test_client()
    staff_login(staff, role, language="en")
    token = csrf_token(staff, "/staff/account")
    assert staff.post(SAVE, data={"csrf_token": token, "consumer_max_instalments": "36"}).status_code == 403
    assert _versions(session) == []
