"""Canned replies: ready answers staff start a reply from, kept in the settings in both languages.

Each language's setting is text: answers separated by a line of three dashes (``---``), the first line of
each its name. The two languages keep the same order, so answer 2 in English is answer 2 in Dutch.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.settings.dispute_settings import DISPUTE_CANNED_REPLIES_PREFIX
from portal.settings.services import get_setting

LANGUAGES = ("en", "nl")
SEPARATOR = "---"


@dataclass(frozen=True)
class CannedReply:
    name: str
    text: str


def parse_canned(raw: str | None) -> list[CannedReply]:
    """The answers in ``raw``; a block without a name or without text is left out (nothing to offer)."""
    blocks: list[list[str]] = [[]]
    for line in (raw or "").replace("\r\n", "\n").split("\n"):
        if line.strip() == SEPARATOR:
            blocks.append([])
        else:
            blocks[-1].append(line)
    replies = []
    for block in blocks:
        text = "\n".join(block).strip()
        if not text:
            continue
        name, _newline, body = text.partition("\n")
        if name.strip() and body.strip():
            replies.append(CannedReply(name.strip(), body.strip()))
    return replies


def canned_replies(session: Session, language: str) -> list[CannedReply]:
    """The answers in ``language`` (the debtor's); Dutch for a language that has none of its own."""
    chosen = language if language in LANGUAGES else "nl"
    return parse_canned(get_setting(session, f"{DISPUTE_CANNED_REPLIES_PREFIX}{chosen}"))
