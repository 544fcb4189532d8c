"""Managing staff accounts (administrators only). Being built."""

from flask import Blueprint

bp = Blueprint("staff_admin", __name__, url_prefix="/staff/team")
