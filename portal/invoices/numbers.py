"""What an invoice number may be. The number is part of its invoice's address (``/invoices/<number>``, for the
debtor and for staff), so it must reach the server exactly as it was written: a browser resolves ``.`` and
``..`` parts of a path (and would open another invoice), the server merges ``//``, and a line break or a tab
cannot be typed or linked at all. Real numbers look like ``2026-000297``, ``INV/2026/0042`` or ``F 2026-12``.
"""

from __future__ import annotations

import unicodedata
from typing import cast

from sqlalchemy import String

from portal.invoices.models import Invoice

MAX_LENGTH = cast(String, Invoice.__table__.c.number.type).length or 40


def number_problem(number: str) -> str | None:
    """Why ``number`` cannot be an invoice number, as an import problem code; None when it can be one.

    Refused: empty; longer than the column; a character you cannot see (control and format characters, a tab,
    a line break, a non-breaking space) or a space at either end or next to another space; a slash at either
    end or next to another slash; a part between slashes that is ``.`` or ``..``.
    """
    if not number:
        return "required"
    if len(number) > MAX_LENGTH:
        return "too_long"
    if any(_unseen(ch) for ch in number) or number != number.strip(" ") or "  " in number:
        return "invoice_number_characters"
    if number.startswith("/") or number.endswith("/") or "//" in number:
        return "invoice_number_slashes"
    if any(part in {".", ".."} for part in number.split("/")):
        return "invoice_number_dots"
    return None


def _unseen(ch: str) -> bool:
    # Category C: control (CR, LF, NUL ...), format (zero-width and direction marks), surrogates, unassigned.
    return ch != " " and (ch.isspace() or unicodedata.category(ch).startswith("C"))


# Joins the start and the end of a number shortened to fit (see ``shortened``): ASCII, safe in an address, and
# rare in real invoice numbers, so a reader sees that something was left out.
ELISION = "~"


def shortened(number: str, length: int) -> str:
    """``number`` itself when it has at most ``length`` characters, else its start and its end joined by ``~``,
    exactly ``length`` characters long (``ZONNIG-ENERGIE/KLANT-0012345/2026-000297`` in 38 is
    ``ZONNIG-ENERGIE/KLAN~012345/2026-000297``). The start names the series, the end the sequence, so the
    number stays recognisable.

    A valid number stays valid (see ``number_problem``): its first and last characters are kept, and the ``~``
    between the two parts keeps them from forming a double space, a ``//`` or a ``.`` or ``..`` part.
    """
    if len(number) <= length:
        return number
    if length < 3:
        raise ValueError(f"cannot shorten an invoice number to {length} characters")
    kept = length - len(ELISION)
    head, tail = kept - kept // 2, kept // 2
    return f"{number[:head]}{ELISION}{number[-tail:]}"
