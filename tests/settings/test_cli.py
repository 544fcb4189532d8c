"""``flask settings show|set``: a deployment configured from a shell, through the same validators, audited."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.settings.models import SettingVersion
from portal.settings.services import get_setting, partial_payment_minimum_cents


def test_show_lists_every_setting_with_its_value_and_whether_it_is_the_default(app, session):
    result = app.test_cli_runner().invoke(args=["settings", "show"])
    assert result.exit_code == 0, result.output
    assert "creditor.phone = +31 20 123 4567  (default)" in result.output
    assert 'payments.partial_payment_minimum = {"EUR": 1000}  (default)' in result.output


def test_set_validates_writes_a_version_and_audits_it_as_the_cli(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["settings", "set", "creditor.iban", "nl02 abna 0123 4567 89", "--note", "new bank"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "creditor.iban = NL02ABNA0123456789"
    version = session.scalars(select(SettingVersion)).one()
    assert (version.changed_by, version.note) == ("system", "new bank")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "setting.changed")).one()
    assert (event.actor_type, event.actor_id) == ("system", "cli")
    shown = runner.invoke(args=["settings", "show"]).output
    assert "creditor.iban = NL02ABNA0123456789  (since " in shown and "by system)" in shown


def test_set_refuses_what_the_staff_area_refuses_and_writes_nothing(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["settings", "set", "creditor.iban", "NL00BANK0123456789"])
    assert result.exit_code != 0
    assert "This is not a valid IBAN" in result.output
    unknown = runner.invoke(args=["settings", "set", "creditor.shoe_size", "44"])
    assert unknown.exit_code != 0 and "Unknown setting 'creditor.shoe_size'" in unknown.output
    not_json = runner.invoke(args=["settings", "set", "payments.partial_payment_minimum", "10"])
    assert not_json.exit_code != 0 and "such as" in not_json.output
    assert session.scalars(select(SettingVersion)).all() == []


def test_structured_settings_take_json_with_exact_amounts(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["settings", "set", "payments.partial_payment_minimum", '{"EUR": 7.5, "GBP": "5"}'])
    assert result.exit_code == 0, result.output
    assert partial_payment_minimum_cents(session, "EUR") == 750
    assert partial_payment_minimum_cents(session, "GBP") == 500
    methods = '{"ideal": {"provider": "demo", "enabled": false}}'
    assert runner.invoke(args=["settings", "set", "payments.methods", methods]).exit_code == 0
    assert get_setting(session, "payments.methods") == {"ideal": {"provider": "demo", "enabled": False}}
    unchanged = runner.invoke(args=["settings", "set", "payments.methods", methods])
    assert unchanged.output.strip() == "payments.methods is unchanged."
