"""Staff pages about customers (search, the customer's story, notes, links). Being built."""

from flask import Blueprint

bp = Blueprint("staff_customers", __name__, url_prefix="/staff/customers")
