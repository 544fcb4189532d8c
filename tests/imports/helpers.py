"""Shared by the import tests: where the files are, and problems as the preview shows them."""

from __future__ import annotations

from pathlib import Path

from portal.imports.problems import describe
from portal.imports.services import Outcome

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ZONE = "Europe/Amsterdam"


def as_bytes(content: str | bytes) -> bytes:
    return content.encode() if isinstance(content, str) else content


def errors(outcome: Outcome) -> list[str]:
    """Each error as the preview shows it: row, column and the message (in the current language)."""
    return [f"{p.row}|{p.column or ''}|{describe(p)}" for p in outcome.problems.sorted()]


def warnings(outcome: Outcome) -> list[str]:
    return [f"{p.row}|{p.column or ''}|{describe(p)}" for p in outcome.warnings]
