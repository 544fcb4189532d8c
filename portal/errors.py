"""``DomainError(code, **details)``: every problem a user can cause, and the one way to put it in words.

A feature derives its own error class and declares, beside it, what each of its codes means to a person
(lazily translated, with ``%(name)s`` placeholders filled from the details). Pages call
:func:`message_for`; the API will answer :func:`problem_for`, an RFC 9457 problem document. A code
without a message still reads as something a person understands, never as a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from portal.i18n import _

# A message is a lazily translated string with %(name)s placeholders, or a function of the details for
# messages that need formatting (an amount in the user's locale).
Message = Any | Callable[[Mapping[str, Any]], str]


class DomainError(Exception):
    """A problem in the domain, identified by a stable ``code`` (part of the API) and its ``details``."""

    area: ClassVar[str] = "portal"  # the feature: payment, refund, staff ... (the problem type's path)
    messages: ClassVar[Mapping[str, Message]] = {}
    status: ClassVar[int] = 400  # the HTTP status an API answer carries

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, **{self.details!r})"


def message_for(error: DomainError) -> str:
    """The error in the current user's language, saying what to do instead."""
    message = type(error).messages.get(error.code)
    if message is None:
        return _("This is not possible right now. Please check what you entered and try again.")
    if callable(message):
        return str(message(error.details))
    text = str(message)
    try:
        return text % error.details if "%(" in text else text
    except (KeyError, TypeError, ValueError):
        return text


def problem_for(error: DomainError) -> dict[str, Any]:
    """An RFC 9457 problem document for the API: a stable type per code, a readable title, the details."""
    return {
        "type": f"/problems/{error.area}/{error.code}",  # a URI reference, resolved against the API's address
        "title": message_for(error),
        "status": error.status,
        "code": f"{error.area}.{error.code}",
        **{key: value for key, value in error.details.items() if isinstance(value, str | int | bool | None)},
    }
