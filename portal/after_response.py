"""Work that a request starts but its visitor should not wait for, run once the response has gone out."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app
from werkzeug.wrappers import Response

from portal.extensions import db

log = logging.getLogger(__name__)


def run_after_response(response: Response, work: Callable[[], object], *, what: str) -> None:
    """Run ``work`` when ``response`` is closed (sent), in an application context of its own; commit once.

    The visitor has their answer by then, so a failure is logged, rolled back and not shown to anyone: the
    caller's own retry path (asking again, the paid-twice policy) covers it. ``what`` names it in the log.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        with app.app_context():
            try:
                work()
                db.session.commit()
            except Exception:  # noqa: BLE001 - see above: the visitor has their answer
                db.session.rollback()
                log.exception("after the response: %s failed", what)

    response.call_on_close(run)
