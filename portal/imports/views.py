"""Staff pages for CSV imports. Being built."""

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/staff/imports")
