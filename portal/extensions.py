"""Module-level singletons, bound to the app in create_app()."""

from __future__ import annotations

from flask_babel import Babel
from flask_wtf import CSRFProtect
from htmx_flask import Htmx

from portal.db import Database
from portal.route_limits import RouteLimiter
from portal.web import client_address

db = Database()
csrf = CSRFProtect()
babel = Babel()
htmx = Htmx()
# Limits are applied per route (see links/views.py); nothing is limited by default.
limiter = RouteLimiter(key_func=client_address, default_limits=[])
