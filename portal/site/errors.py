"""Error pages in the visitor's language; no stack trace or internal detail ever reaches them."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db
from portal.sessions import is_staff_request

PAGES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    405: "errors/404.html",
    413: "errors/400.html",
    429: "errors/429.html",
}


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_template("errors/expired_form.html"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
        code = error.code or 500
        if code >= 500:
            return server_error(error)
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
