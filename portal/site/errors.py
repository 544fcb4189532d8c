"""Error pages in the visitor's language; no stack trace or internal detail ever reaches them."""

from __future__ import annotations

import math
import time
from datetime import datetime

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, TooManyRequests

from portal import clock
from portal.extensions import db, limiter
from portal.i18n import _n
from portal.sessions import is_staff_request

PAGES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    405: "errors/404.html",
    413: "errors/400.html",
    429: "errors/429.html",
}
# For a 429 that says nothing about its own wait (a plain abort(429)): long enough for a per-minute limit.
DEFAULT_RETRY_AFTER_SECONDS = 60


def retry_after_seconds(error: HTTPException | None = None) -> int:
    """How many seconds until a refused client may try again: from the 429 itself when it says
    (``TooManyRequests(retry_after=...)``), else from the limit Flask-Limiter found breached in this request."""
    wait: float | None = None
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, datetime):
        wait = (retry_after - clock.now()).total_seconds()
    elif isinstance(retry_after, int | float):
        wait = float(retry_after)
    else:
        breached = [limit for limit in limiter.current_limits if limit.breached]
        if breached:
            # The limiter's storage keeps real time, so its reset moment is compared with real time.
            wait = max(limit.reset_at for limit in breached) - time.time()
    if wait is None:
        return DEFAULT_RETRY_AFTER_SECONDS
    return max(1, int(wait))


def wait_phrase(seconds: int) -> str:
    """ "45 seconds", "3 minutes", "2 hours": rounded up, so nobody is told to come back too early."""
    if seconds < 60:
        return _n("%(num)s second", "%(num)s seconds", seconds)
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return _n("%(num)s minute", "%(num)s minutes", minutes)
    return _n("%(num)s hour", "%(num)s hours", math.ceil(minutes / 60))


def too_many_requests(error: HTTPException | None = None) -> Response:
    """The 429 page, with a Retry-After in seconds and the same wait in words."""
    seconds = retry_after_seconds(error)
    response = Response(render_template("errors/429.html", wait=wait_phrase(seconds)), TooManyRequests.code)
    response.headers["Retry-After"] = str(seconds)
    return response


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_template("errors/expired_form.html"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | HTTPException | Response:
        code = error.code or 500
        if code >= 500:
            return server_error(error)
        if code == TooManyRequests.code:
            return too_many_requests(error)
        template = "staff/403.html" if code == 403 and is_staff_request() else PAGES.get(code)
        if template is None:
            return error
        return render_template(template), code

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> tuple[str, int]:
        if not isinstance(error, HTTPException):
            app.logger.exception("unhandled error", exc_info=error)
        db.session.rollback()
        return render_template("errors/500.html"), InternalServerError.code

    @app.after_request
    def every_429_says_when(response: Response) -> Response:
        # A 429 answered without the page above (a blueprint's own handler, a view's JSON) still tells when.
        if response.status_code == TooManyRequests.code and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(retry_after_seconds())
        return response
