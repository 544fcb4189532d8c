"""The staff dashboard. Being built."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/staff/dashboard")
