"""The audit trail in the staff area. Being built."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")
