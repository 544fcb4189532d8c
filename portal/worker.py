"""Entry point for Celery: ``celery -A portal.worker worker`` and ``celery -A portal.worker beat``."""

from portal import create_app

flask_app = create_app()
celery = flask_app.extensions.get("portal_celery")
if celery is None:
    raise SystemExit("Set PORTAL_CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) to run Celery workers.")
