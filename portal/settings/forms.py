"""The settings forms. Labels and help texts come from the registry; so do the checks, through its validators."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, StringField, TextAreaField
from wtforms.validators import ValidationError

from portal.i18n import _l
from portal.settings import registry
from portal.settings.registry import CREDITOR_PREFIX, SettingProblem


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


class CreditorForm(FlaskForm):
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

    def validate(self, extra_validators: Any = None) -> bool:
        checks = {
            field.name: [_check(registry.get(CREDITOR_PREFIX + field.name).parse)] for field in self.setting_fields()
        }
        return super().validate(extra_validators=checks)

    def changes(self) -> dict[str, str]:
        return {CREDITOR_PREFIX + field.name: field.data or "" for field in self.setting_fields()}


class PaymentsForm(FlaskForm):
    """The part-payment minimum, one field per currency (``minimum_EUR``); see payments_form()."""

    currencies: tuple[str, ...] = ()

    def minimum_fields(self) -> list[Field]:
        return [self[f"minimum_{currency}"] for currency in self.currencies]

    def validate(self, extra_validators: Any = None) -> bool:
        checks = {field.name: [_check(registry.parse_minimum_cents)] for field in self.minimum_fields()}
        return super().validate(extra_validators=checks)

    def changes(self) -> dict[str, Any]:
        minimums = {currency: self[f"minimum_{currency}"].data or "" for currency in self.currencies}
        return {registry.PARTIAL_MINIMUM_KEY: minimums}


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
