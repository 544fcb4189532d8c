"""What declaring a setting takes (key, label, help text, default, validator), and how its value is parsed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portal.settings.validators import SettingProblem


@dataclass(frozen=True)
class Setting:
    key: str
    label: Any  # lazy strings: translated when shown
    help: Any
    default: Any
    validator: Callable[[Any], Any]
    # The CLI reads the value as JSON (a dict of currencies, of methods); otherwise as plain text.
    structured: bool = False
    example: str = ""

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    def parse(self, raw: Any) -> Any:
        try:
            return self.validator(raw)
        except SettingProblem as problem:
            problem.key = self.key
            if problem.code == "invalid_structure":
                problem.details.setdefault("example", self.example)
            raise
