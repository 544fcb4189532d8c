"""The settings forms. Labels and help texts come from the registry; so do the checks, through its validators.

Each form carries, hidden, the version of each of its keys as drawn, so a save can tell whether someone
else changed them in between (``set_settings(expected_versions=...)``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, HiddenField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import ValidationError

from portal.i18n import _l
from portal.settings import registry
from portal.settings.registry import CONTACT_HOURS_KEY, CREDITOR_PREFIX, SettingProblem
from portal.settings.validators import CONTACT_DAYS, days_text, parse_contact_window


def _check(parse: Callable[[Any], Any]) -> Callable[[Any, Field], None]:
    def check(_form: Any, field: Field) -> None:
        try:
            parse(field.data)
        except SettingProblem as problem:
            raise ValidationError(problem.message) from None

    return check


def _field(name: str, field_class: type[Field] = StringField) -> Field:
    setting = registry.get(CREDITOR_PREFIX + name)
    return field_class(setting.label, description=setting.help)


class SettingsForm(FlaskForm):
    """A section's form; ``versions`` is {key: version shown} as JSON, 0 for a key that had none yet."""

    versions = HiddenField()

    def setting_keys(self) -> list[str]:
        raise NotImplementedError

    def show_versions(self, in_force: Mapping[str, int]) -> None:
        self.versions.data = json.dumps({key: in_force.get(key, 0) for key in self.setting_keys()}, sort_keys=True)

    def expected_versions(self) -> dict[str, int]:
        """The versions the page was drawn with; none (every key expected unset) if the field was lost."""
        try:
            shown = json.loads(self.versions.data or "{}")
        except ValueError:
            return {}
        if not isinstance(shown, dict):
            return {}
        return {key: n for key, n in shown.items() if isinstance(n, int) and not isinstance(n, bool)}


class CreditorForm(SettingsForm):
    """Field names are the keys without "creditor.": ``phone`` edits ``creditor.phone``."""

    name = _field("name")
    address = _field("address", TextAreaField)
    email = _field("email", EmailField)
    phone = _field("phone")
    iban = _field("iban")
    bic = _field("bic")
    identifier = _field("identifier")
    vat_number = _field("vat_number")
    legal_text = _field("legal_text")

    def setting_fields(self) -> list[Field]:
        return [field for field in self if CREDITOR_PREFIX + field.name in registry.SETTINGS]

    def setting_keys(self) -> list[str]:
        return [CREDITOR_PREFIX + field.name for field in self.setting_fields()]

    def validate(self, extra_validators: Any = None) -> bool:
        checks = {
            field.name: [_check(registry.get(CREDITOR_PREFIX + field.name).parse)] for field in self.setting_fields()
        }
        return super().validate(extra_validators=checks)

    def changes(self) -> dict[str, str]:
        return {CREDITOR_PREFIX + field.name: field.data or "" for field in self.setting_fields()}


_PAID_TWICE_LABELS = {
    "refund": _l("Pay it back automatically"),
    "credit": _l("Keep it as credit on the customer's account"),
}


class PaymentsForm(SettingsForm):
    """The part-payment minimum, one field per currency (``minimum_EUR``; see payments_form()), and what
    happens to a payment for invoices already paid."""

    currencies: tuple[str, ...] = ()
    paid_twice = RadioField(
        registry.get(registry.PAID_TWICE_KEY).label,
        description=registry.get(registry.PAID_TWICE_KEY).help,
        choices=[SelectChoice(choice, _PAID_TWICE_LABELS[choice]) for choice in registry.PAID_TWICE_CHOICES],
        # Checked by the registry's validator below; a form sent without it (an older page) changes nothing.
        validate_choice=False,
    )

    def setting_keys(self) -> list[str]:
        return [registry.PARTIAL_MINIMUM_KEY, registry.PAID_TWICE_KEY]

    def minimum_fields(self) -> list[Field]:
        return [self[f"minimum_{currency}"] for currency in self.currencies]

    def validate(self, extra_validators: Any = None) -> bool:
        checks = {field.name: [_check(registry.parse_minimum_cents)] for field in self.minimum_fields()}
        if self.paid_twice.data:
            checks["paid_twice"] = [_check(registry.get(registry.PAID_TWICE_KEY).parse)]
        return super().validate(extra_validators=checks)

    def changes(self) -> dict[str, Any]:
        minimums = {currency: self[f"minimum_{currency}"].data or "" for currency in self.currencies}
        changes: dict[str, Any] = {registry.PARTIAL_MINIMUM_KEY: minimums}
        if self.paid_twice.data:
            changes[registry.PAID_TWICE_KEY] = self.paid_twice.data
        return changes


def payments_form(currencies: Iterable[str], **kwargs: Any) -> PaymentsForm:
    """A PaymentsForm with a field for each of ``currencies`` (a form class per call: fields are per class)."""
    chosen = tuple(currencies)
    fields: dict[str, Any] = {
        f"minimum_{currency}": StringField(
            _l("Smallest part-payment in %(currency)s", currency=currency),
            description=registry.get(registry.PARTIAL_MINIMUM_KEY).help,
        )
        for currency in chosen
    }
    form_class = type("PaymentsForm", (PaymentsForm,), {"currencies": chosen, **fields})
    return form_class(**kwargs)


_WINDOW_HINT = _l("From and until, such as 08:00-21:00. Leave it empty for no contact on that day.")


class ContactHoursForm(SettingsForm):
    """The three windows of ``contact.hours``; field names are its keys (``saturday`` edits ["saturday"])."""

    weekdays = StringField(_l("Monday to Friday"), description=_WINDOW_HINT)
    saturday = StringField(_l("Saturday"), description=_WINDOW_HINT)
    sunday = StringField(_l("Sunday"), description=_WINDOW_HINT)

    def setting_keys(self) -> list[str]:
        return [CONTACT_HOURS_KEY]

    def window_fields(self) -> list[Field]:
        return [self[day] for day in CONTACT_DAYS]

    def validate(self, extra_validators: Any = None) -> bool:
        checks = {field.name: [_check(parse_contact_window)] for field in self.window_fields()}
        return super().validate(extra_validators=checks)

    def changes(self) -> dict[str, Any]:
        return {CONTACT_HOURS_KEY: {field.name: field.data or "" for field in self.window_fields()}}


# The direct-debit policy (portal/debits/policy.py): field names are the keys without "debits.".
DEBIT_KEYS = (
    registry.DEBIT_NOTICE_DAYS_KEY,
    registry.DEBIT_ALLOWED_DAYS_KEY,
    registry.DEBIT_CHANGES_PER_YEAR_KEY,
    registry.DEBIT_FAILED_GRACE_DAYS_KEY,
    registry.DEBIT_RETRY_WINDOW_DAYS_KEY,
)
DEBITS_PREFIX = "debits."


def _debit_field(key: str) -> Field:
    setting = registry.get(key)
    return StringField(setting.label, description=setting.help)


class DebitsForm(SettingsForm):
    notice_days = _debit_field(registry.DEBIT_NOTICE_DAYS_KEY)
    allowed_days = _debit_field(registry.DEBIT_ALLOWED_DAYS_KEY)
    changes_per_year = _debit_field(registry.DEBIT_CHANGES_PER_YEAR_KEY)
    failed_grace_days = _debit_field(registry.DEBIT_FAILED_GRACE_DAYS_KEY)
    retry_window_days = _debit_field(registry.DEBIT_RETRY_WINDOW_DAYS_KEY)

    @classmethod
    def shown(cls, values: Mapping[str, Any]) -> DebitsForm:
        """The form filled with the values in force; the allowed days as a person types them ("1-28")."""
        data = {key.removeprefix(DEBITS_PREFIX): str(values[key]) for key in DEBIT_KEYS}
        data["allowed_days"] = days_text(values[registry.DEBIT_ALLOWED_DAYS_KEY])
        return cls(formdata=None, data=data)

    def setting_fields(self) -> list[Field]:
        return [self[key.removeprefix(DEBITS_PREFIX)] for key in DEBIT_KEYS]

    def setting_keys(self) -> list[str]:
        return list(DEBIT_KEYS)

    def validate(self, extra_validators: Any = None) -> bool:
        checks = {key.removeprefix(DEBITS_PREFIX): [_check(registry.get(key).parse)] for key in DEBIT_KEYS}
        return super().validate(extra_validators=checks)

    def changes(self) -> dict[str, Any]:
        # As typed: set_settings parses each through its validator ("1-28" is stored as the list of days).
        return {key: self[key.removeprefix(DEBITS_PREFIX)].data or "" for key in DEBIT_KEYS}
