"""The Settings page: an administrator changes the creditor's details and the payment policy, and debtors
see the change on their pages and in the next e-mail; everyone else is refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.notifications.models import OutboxMessage
from portal.payments.models import Payment
from portal.settings.models import SettingVersion
from portal.settings.registry import SETTINGS
from portal.settings.services import set_settings
from tests.fixtures.factories import TEST_ACTOR, csrf_token
from tests.payments.conftest import start_payment

PAGE = "/staff/settings/"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _creditor_form(staff: Any, **changes: str) -> dict[str, str]:
    """The company-details form as an administrator sends it: every field as shown, some of them changed."""
    return _creditor_fields(csrf_token(staff, PAGE), **changes)


def _creditor_fields(token: str, **changes: str) -> dict[str, str]:
    form = {name.removeprefix("creditor."): s.default for name, s in SETTINGS.items() if name.startswith("creditor.")}
    return {**form, **changes, "csrf_token": token}


@pytest.fixture()
def admin(app, staff_login):
    staff = app.test_client()
    staff_login(staff, "admin", language="en", email="ada@example.com")
    return staff


def test_the_admin_changes_the_phone_number_and_debtors_see_it_on_the_page_and_in_the_next_email(
    admin, client, session, create_customer, create_invoice, login
):
    saved = admin.post(f"{PAGE}creditor", data=_creditor_form(admin, phone="+31 30 987 6543"))
    assert saved.status_code == 302
    assert "Your changes have been saved." in admin.get(PAGE).get_data(as_text=True)

    customer = create_customer(language="en", email="jip@example.com", name="Jip Jansen")
    create_invoice(customer)
    login(client, customer)
    overview = _text(client.get("/overview").get_data(as_text=True))
    assert re.search(r"Call us on \+31\s30\s987\s6543", overview)
    assert "+31 20 123 4567" not in overview

    client.post("/link", data={"email": "jip@example.com", "csrf_token": csrf_token(client, "/link")})
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.customer_id == customer.id)).one()
    assert "+31 30 987 6543" in message.body_text and "+31 30 987 6543" in message.body_html

    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "setting.changed")).one()
    assert (event.actor_type, event.actor_id, event.subject_id) == ("staff", "ada@example.com", "creditor.phone")
    assert event.details == {"old": "+31 20 123 4567", "new": "+31 30 987 6543"}
    history = _text(admin.get(f"{PAGE}history?key=creditor.phone").get_data(as_text=True))
    assert "+31 30 987 6543" in history and "ada@example.com" in history


def test_the_next_email_is_sent_from_the_creditors_address_as_set_when_sending(
    admin, client, session, create_customer, smtp_configured
):
    admin.post(f"{PAGE}creditor", data=_creditor_form(admin, name="Zon & Co", email="hulp@zon.example"))
    create_customer(email="noor@example.com", language="nl")
    client.post("/link", data={"email": "noor@example.com", "csrf_token": csrf_token(client, "/link")})
    [email] = smtp_configured.received
    assert email["From"] == "Zon & Co <hulp@zon.example>"


def test_the_footer_text_shows_on_pages_and_in_emails(admin, client, session, create_customer):
    admin.post(f"{PAGE}creditor", data=_creditor_form(admin, legal_text="KvK 12345678 · Voorwaarden op zon.example"))
    assert "KvK 12345678" in client.get("/link").get_data(as_text=True)
    create_customer(email="bo@example.com")
    client.post("/link", data={"email": "bo@example.com", "csrf_token": csrf_token(client, "/link")})
    message = session.scalars(select(OutboxMessage)).one()
    assert "KvK 12345678" in message.body_text and "KvK 12345678" in message.body_html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "This is not a valid IBAN. Check the letters and digits"),
        ("nl", "Dit is geen geldig IBAN. Controleer de letters en cijfers"),
    ],
)
def test_an_invalid_iban_is_explained_in_the_admins_language_and_nothing_is_saved(
    app, staff_login, session, language, expected
):
    staff = app.test_client()
    staff_login(staff, "admin", language=language)
    refused = staff.post(
        f"{PAGE}creditor", data=_creditor_form(staff, iban="NL00BANK0123456789", phone="+31 6 1234 5678")
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert expected in page
    assert 'value="NL00BANK0123456789"' in page, "what was typed stays in the field"
    assert session.scalars(select(SettingVersion)).all() == []


@pytest.mark.parametrize(
    ("language", "amount", "expected"),
    [
        ("en", "-5", "Enter an amount such as 10.00 (at least 0.01), or leave the field empty."),
        ("en", "ten euros", "Enter an amount such as 10.00 (at least 0.01), or leave the field empty."),
        ("nl", "-5", "Vul een bedrag in, zoals 10,00 (minstens 0,01), of laat het veld leeg."),
        ("nl", "tien", "Vul een bedrag in, zoals 10,00 (minstens 0,01), of laat het veld leeg."),
    ],
)
def test_a_negative_or_non_numeric_minimum_is_explained_and_nothing_is_saved(
    app, staff_login, session, language, amount, expected
):
    staff = app.test_client()
    staff_login(staff, "admin", language=language)
    data = {"minimum_EUR": amount, "csrf_token": csrf_token(staff, PAGE)}
    refused = staff.post(f"{PAGE}payments", data=data)
    assert refused.status_code == 400
    assert expected in refused.get_data(as_text=True)
    assert session.scalars(select(SettingVersion)).all() == []


@pytest.mark.parametrize("role", ["viewer", "agent", "supervisor"])
def test_only_administrators_reach_the_settings(app, staff_login, session, role):
    staff = app.test_client()
    staff_login(staff, role, language="en")
    assert staff.get(PAGE).status_code == 403
    assert staff.get(f"{PAGE}history").status_code == 403
    token = csrf_token(staff, "/staff/account")
    assert staff.post(f"{PAGE}creditor", data=_creditor_fields(token, phone="+31 6 0000 0000")).status_code == 403
    assert staff.post(f"{PAGE}payments", data={"minimum_EUR": "1,00", "csrf_token": token}).status_code == 403
    assert "Settings" not in _text(staff.get("/staff/account").get_data(as_text=True)).split("Log out")[0]
    assert session.scalars(select(SettingVersion)).all() == []


def test_the_page_shows_the_values_in_force_and_the_minimum_in_the_admins_notation(app, staff_login, session):
    set_settings(session, {"payments.partial_payment_minimum": {"EUR": "12.50"}}, actor=TEST_ACTOR)
    session.commit()
    staff = app.test_client()
    staff_login(staff, "admin", language="nl")
    page = staff.get(PAGE).get_data(as_text=True)
    assert 'value="12,50"' in page
    assert 'value="Zonnig Energie B.V."' in page


def test_the_minimum_set_by_the_admin_is_enforced_on_the_pay_page(
    admin, client, session, create_customer, create_invoice, login
):
    admin.post(f"{PAGE}payments", data={"minimum_EUR": "15,00", "csrf_token": csrf_token(admin, PAGE)})
    customer = create_customer(language="en")
    create_invoice(customer, number="M-1")
    login(client, customer)

    assert "At least €15.00." in _text(client.get("/pay").get_data(as_text=True))
    refused = start_payment(client, ["M-1"], amount_choice="partial", partial_amount="12,00")
    assert refused.status_code == 400
    assert "The amount must be at least €15.00." in refused.get_data(as_text=True)
    assert start_payment(client, ["M-1"], amount_choice="partial", partial_amount="15,00").status_code == 303


def test_an_empty_minimum_allows_whole_invoices_only(admin, client, session, create_customer, create_invoice, login):
    admin.post(f"{PAGE}payments", data={"minimum_EUR": "", "csrf_token": csrf_token(admin, PAGE)})
    customer = create_customer(language="en")
    create_invoice(customer, number="W-1")
    login(client, customer)

    assert 'name="amount_choice"' not in client.get("/pay").get_data(as_text=True)
    refused = start_payment(client, ["W-1"], amount_choice="partial", partial_amount="20,00")
    assert refused.status_code == 400
    assert "Paying part of an invoice is not possible here." in refused.get_data(as_text=True)
    assert session.scalars(select(Payment).where(Payment.customer_id == customer.id)).first() is None
    history = _text(admin.get(f"{PAGE}history").get_data(as_text=True))
    assert "EUR: whole invoices only" in history


def test_the_payment_methods_page_writes_a_version_that_the_history_shows(admin, session):
    form = {"csrf_token": csrf_token(admin, "/staff/payment-methods"), "enabled-ideal": "on", "provider-ideal": "demo"}
    assert admin.post("/staff/payment-methods", data=form).status_code == 302
    version = session.scalars(select(SettingVersion).where(SettingVersion.key == "payments.methods")).one()
    assert version.value["ideal"] == {"provider": "demo", "enabled": True}
    assert version.value["creditcard"] == {"provider": "demo", "enabled": False}
    history = _text(admin.get(f"{PAGE}history?key=payments.methods").get_data(as_text=True))
    assert "iDEAL: Demo (no real money), offered" in history
    assert "Credit or debit card: Demo (no real money), not offered" in history
    assert "1 change, newest first" in history
