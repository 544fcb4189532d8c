"""The "Disputes" section of the Settings page: every ``disputes.*`` key the registry declares (the deadlines,
the credit-note amount that needs a supervisor, the canned replies in both languages).

Field names are the keys without "disputes." (``first_response_days`` edits ``disputes.first_response_days``);
labels, help texts and checks come from the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wtforms import Field, StringField, TextAreaField

from portal.settings import registry
from portal.settings.dispute_settings import (
    DISPUTE_CANNED_REPLIES_PREFIX,
    DISPUTE_PREFIX,
    DISPUTE_SUPERVISOR_CREDIT_ABOVE_KEY,
)
from portal.settings.forms import SettingsForm, _check

DISPUTE_KEYS = tuple(registry.keys_with_prefix(DISPUTE_PREFIX))
# Stored as cents, shown and typed as an amount ("250,00").
AMOUNT_KEYS = (DISPUTE_SUPERVISOR_CREDIT_ABOVE_KEY,)


def field_name(key: str) -> str:
    return key.removeprefix(DISPUTE_PREFIX)


def _field_for(key: str) -> Field:
    setting = registry.get(key)
    if key.startswith(DISPUTE_CANNED_REPLIES_PREFIX):
        return TextAreaField(setting.label, description=setting.help, render_kw={"rows": 10})
    return StringField(setting.label, description=setting.help)


class _DisputesFields(SettingsForm):
    def setting_keys(self) -> list[str]:
        return list(DISPUTE_KEYS)

    def setting_fields(self) -> list[Field]:
        return [self[field_name(key)] for key in DISPUTE_KEYS]

    def validate(self, extra_validators: Any = None) -> bool:
        checks = {field_name(key): [_check(registry.get(key).parse)] for key in DISPUTE_KEYS}
        return bool(super().validate(extra_validators=checks))

    def changes(self) -> dict[str, Any]:
        # As typed: set_settings parses each through its validator ("250,00" is stored as 25000 cents).
        return {key: self[field_name(key)].data or "" for key in DISPUTE_KEYS}


DisputesForm: type[_DisputesFields] = type(
    "DisputesForm", (_DisputesFields,), {field_name(key): _field_for(key) for key in DISPUTE_KEYS}
)


def disputes_form_shown(values: Mapping[str, Any], amount_text: Callable[[int | None], str]) -> _DisputesFields:
    """The form filled with the values in force; the amount as a person types it ("250,00" in Dutch)."""
    data = {
        field_name(key): amount_text(values[key]) if key in AMOUNT_KEYS else str(values[key] or "")
        for key in DISPUTE_KEYS
    }
    return DisputesForm(formdata=None, data=data)
