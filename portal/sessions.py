"""Two separate cookie sessions: one for debtors and one for staff.

The staff cookie is scoped to /staff and signed with its own salt, so a debtor's session can never be
presented as a staff session (or the reverse), and debtor pages never even receive the staff cookie.
"""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

STAFF_PREFIX = "/staff"
STAFF_COOKIE = "portal_staff"


def is_staff_request() -> bool:
    return request.path == STAFF_PREFIX or request.path.startswith(STAFF_PREFIX + "/")


class AreaSessionInterface(SecureCookieSessionInterface):
    def get_cookie_name(self, app: Flask) -> str:
        return STAFF_COOKIE if is_staff_request() else super().get_cookie_name(app)

    def get_cookie_path(self, app: Flask) -> str:
        return STAFF_PREFIX if is_staff_request() else super().get_cookie_path(app)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "Strict" if is_staff_request() else super().get_cookie_samesite(app)

    def __init__(self) -> None:
        # Kept: every request asks for it twice (to open and to save the cookie), and building one is a third of
        # what verifying a cookie costs. Keyed by everything it is built from, so a changed key builds anew.
        self._serializers: dict[tuple[object, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        staff = is_staff_request()
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()), staff)
        if key not in self._serializers:
            serializer = super().get_signing_serializer(app)
            if serializer is not None and staff:
                serializer.salt = b"staff-session"
            self._serializers[key] = serializer
        return self._serializers[key]
