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
# Everything after /p/ up to the end of the path: the token (also inside a query such as ?next=/p/...,
# percent-encoded or not). \x1b stops it before the colour codes werkzeug puts around a request line.
_TOKEN_IN_PATH = re.compile(r"(/p/|%2Fp%2F)[^\s?#&\"'\x1b]+", re.IGNORECASE)
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
