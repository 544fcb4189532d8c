"""Work that a request starts but its visitor should not wait for, run once the response has gone out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Flask, current_app
from werkzeug.wrappers import Response

from portal.extensions import db

log = logging.getLogger(__name__)

# The work runs when the server closes the response, once it is sent. Should a server never close it, it runs
# after this long anyway: werkzeug's development server (``make run``) skips the close when the browser resets
# the connection first, which lost a fresh-link e-mail now and then.
RUN_AT_THE_LATEST_SECONDS = 2.0


def run_after_response(response: Response, work: Callable[[], object], *, what: str) -> None:
    """Run ``work`` once ``response`` is sent, exactly once, in an application context of its own; commit once.

    The visitor has their answer by then, so a failure is logged, rolled back and not shown to anyone: the
    caller's own retry path (asking again, the paid-twice policy) covers it. ``what`` names it in the log.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    claimed = threading.Lock()

    def run() -> None:
        with app.app_context():
            try:
                work()
                db.session.commit()
            except Exception:  # noqa: BLE001 - see above: the visitor has their answer
                db.session.rollback()
                log.exception("after the response: %s failed", what)

    def run_once() -> None:
        if not claimed.acquire(blocking=False):
            return  # the close and the fallback both came: the first one ran it
        fallback.cancel()
        run()

    fallback = threading.Timer(RUN_AT_THE_LATEST_SECONDS, run_once)
    fallback.daemon = True
    response.call_on_close(run_once)
    fallback.start()
