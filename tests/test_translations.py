"""The Dutch catalog is complete, current and consistent with the English text."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
DUTCH = ROOT / "translations" / "nl" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _catalog():
    with DUTCH.open("rb") as handle:
        return read_po(handle)


def _forms(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def test_every_dutch_message_is_translated_and_none_is_fuzzy() -> None:
    problems = []
    for message in _catalog():
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if not all(_forms(message.string)):
            problems.append(f"untranslated: {message.id!r}")
    assert not problems, "\n".join(problems)


def test_placeholders_are_the_same_in_english_and_dutch() -> None:
    problems = []
    for message in _catalog():
        if not message.id:
            continue
        english = {name for form in _forms(message.id) for name in PLACEHOLDER.findall(form)}
        for dutch_form in _forms(message.string):
            dutch = set(PLACEHOLDER.findall(dutch_form))
            if dutch != english:
                problems.append(f"{message.id!r}: English has {sorted(english)}, Dutch has {sorted(dutch)}")
    assert not problems, "\n".join(problems)


def test_catalog_holds_every_message_in_the_code_and_templates(tmp_path: Path) -> None:
    """A string added to the code without a Dutch translation fails here, not in front of a debtor."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "_n:1,2",
            "-k",
            "_p:1c,2",
            "--ignore-dirs=.* .venv instance",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        in_code = {message.id for message in read_po(handle) if message.id}
    in_catalog = {message.id for message in _catalog() if message.id}
    missing = sorted(map(str, in_code - in_catalog))
    assert not missing, "Run `make extract-messages` and translate:\n" + "\n".join(missing)
