"""Keeping personal-link tokens out of every log the portal writes or configures.

A token in ``/p/<token>`` opens someone's financial page, so an access log that keeps it is a key left
lying around. Werkzeug's request log (``flask run``) and the app's own loggers are redacted from
create_app() on (``install_redaction``); gunicorn's access and error logs by ``portal.gunicorn_logger``,
which ``gunicorn.conf.py`` names.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask

REDACTED = "[redacted]"
# A slash as a client may spell it: the router decodes %2F to a slash (so /p%2F<token> opens the link), a
# backslash may reach a log as it is or escaped as two, and a link inside a query or a Referer is encoded
# once more (%252F). Any number of levels, and a p encoded as %70, so no spelling slips through.
_SLASH = r"(?:/|\\|%(?:25)*(?:2F|5C))"
_P = r"(?:p|%(?:25)*70)"
# Everything after /p/ up to the end of the path: the token (also inside a query such as ?next=/p/...).
# Only a p standing alone between slashes counts, so /plan/3 or /help/pdf%2F... stay as they are.
# \x1b stops it before the colour codes werkzeug puts around a request line.
_TOKEN_IN_PATH = re.compile(rf"({_SLASH}{_P}{_SLASH}+)[^\s?#&\"'\x1b]+", re.IGNORECASE)
# Query parameters that carry a secret, should a link ever put one there.
_TOKEN_IN_QUERY = re.compile(r"([?&;](?:token|key|secret)=)[^\s&#;\"'\x1b]+", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every personal-link token replaced by ``[redacted]``."""
    return _TOKEN_IN_QUERY.sub(rf"\g<1>{REDACTED}", _TOKEN_IN_PATH.sub(rf"\g<1>{REDACTED}", text))


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record is logging's own problem to report, not ours
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None


class RedactTokens(logging.Filter):
    """Rewrites a record's message without its tokens; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def install_redaction(app: Flask) -> None:
    """Redact werkzeug's request log, the app's loggers and every other record made in this process.

    A logger's filter sees only what is logged on that very logger, not what its children (``portal.payments``
    and so on) pass up to the handlers; so records are also redacted where they are made, by wrapping the
    record factory once per process. The filters on werkzeug's and the app's loggers stay for records
    built by hand (``logger.handle(record)``).
    """
    for logger in (logging.getLogger("werkzeug"), app.logger):
        if not any(isinstance(existing, RedactTokens) for existing in logger.filters):
            logger.addFilter(RedactTokens())
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_tokens", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    make_record.redacts_tokens = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)
