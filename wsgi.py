"""Production entry point: ``gunicorn wsgi:app`` (configuration from PORTAL_* environment variables)."""

from portal import create_app

app = create_app()
