"""The bare Flask app the portal is compared with: one route, no extensions, no database."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """Return the smallest possible page."""
    return "hello"
