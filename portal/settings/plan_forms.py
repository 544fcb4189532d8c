"""The "Payment plans" section of the Settings page: every ``plans.*`` key the registry declares.

Field names are the keys without "plans." (``consumer_max_instalments`` edits
``plans.consumer_max_instalments``); labels, help texts and checks come from the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wtforms import Field, RadioField, SelectChoice, StringField, TextAreaField

from portal.i18n import _l
from portal.settings import registry
from portal.settings.forms import SettingsForm, _check
from portal.settings.plan_settings import DEBT_HELP_PREFIX, PLAN_INTEREST_KEY, PLAN_INVOICES_KEY, PLAN_PREFIX

PLAN_KEYS = tuple(registry.keys_with_prefix(PLAN_PREFIX))
# Stored as cents, shown and typed as an amount ("25,00").
AMOUNT_KEYS = tuple(key for key in PLAN_KEYS if key.endswith(("_min_instalment", "_max_total")))
_CHOICE_LABELS: dict[str, dict[str, Any]] = {
    PLAN_INVOICES_KEY: {"overdue": _l("Only overdue invoices"), "open": _l("Every open invoice")},
    PLAN_INTEREST_KEY: {
        "none": _l("No interest while a plan runs"),
        "statutory": _l("Statutory interest keeps running"),
    },
}
# How the page groups the fields: a heading and the keys under it, in the registry's order.
GROUPS: list[tuple[Any, Callable[[str], bool]]] = [
    (_l("Consumers"), lambda key: key.startswith(f"{PLAN_PREFIX}consumer_")),
    (_l("Businesses"), lambda key: key.startswith(f"{PLAN_PREFIX}business_")),
    (
        _l("Every plan"),
        lambda key: not key.startswith((f"{PLAN_PREFIX}consumer_", f"{PLAN_PREFIX}business_", DEBT_HELP_PREFIX)),
    ),
    (_l("Debt help"), lambda key: key.startswith(DEBT_HELP_PREFIX)),
]


def field_name(key: str) -> str:
    return key.removeprefix(PLAN_PREFIX)


def _field_for(key: str) -> Field:
    setting = registry.get(key)
    if key in _CHOICE_LABELS:
        choices = [SelectChoice(value, label) for value, label in _CHOICE_LABELS[key].items()]
        # Checked by the registry's validator (one_of), with its own message.
        return RadioField(setting.label, description=setting.help, choices=choices, validate_choice=False)
    if key.startswith(DEBT_HELP_PREFIX):
        return TextAreaField(setting.label, description=setting.help)
    return StringField(setting.label, description=setting.help)


class _PlansFields(SettingsForm):
    def setting_keys(self) -> list[str]:
        return list(PLAN_KEYS)

    def setting_fields(self) -> list[Field]:
        return [self[field_name(key)] for key in PLAN_KEYS]

    def groups(self) -> list[tuple[Any, list[Field]]]:
        return [(legend, [self[field_name(key)] for key in PLAN_KEYS if belongs(key)]) for legend, belongs in GROUPS]

    def validate(self, extra_validators: Any = None) -> bool:
        checks = {field_name(key): [_check(registry.get(key).parse)] for key in PLAN_KEYS}
        return bool(super().validate(extra_validators=checks))

    def changes(self) -> dict[str, Any]:
        # As typed: set_settings parses each through its validator ("25,00" is stored as 2500 cents).
        return {key: self[field_name(key)].data or "" for key in PLAN_KEYS}


PlansForm: type[_PlansFields] = type(
    "PlansForm", (_PlansFields,), {field_name(key): _field_for(key) for key in PLAN_KEYS}
)


def plans_form_shown(values: Mapping[str, Any], amount_text: Callable[[int | None], str]) -> _PlansFields:
    """The form filled with the values in force; amounts as a person types them ("25,00" in Dutch)."""
    data = {
        field_name(key): amount_text(values[key]) if key in AMOUNT_KEYS else str(values[key] or "") for key in PLAN_KEYS
    }
    return PlansForm(formdata=None, data=data)
