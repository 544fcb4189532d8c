"""Template globals of the plan pages."""

from __future__ import annotations

from flask import current_app


def has_endpoint(endpoint: str) -> bool:
    """Whether a page exists in this app, so a template can link to a feature only where it is installed
    (the plan pages and the pages that link to them are built and can be deployed apart)."""
    return endpoint in current_app.view_functions
