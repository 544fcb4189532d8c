"""gunicorn settings for the portal. gunicorn reads ./gunicorn.conf.py by itself when started from the
checkout (``gunicorn wsgi:app``); ``--config gunicorn.conf.py`` says so explicitly. Command-line options
(workers, bind, ``--access-logfile -``) override what is set here."""

# Personal-link tokens (/p/<token>) never reach the access or error log.
logger_class = "portal.gunicorn_logger.RedactingLogger"


def post_worker_init(worker: object) -> None:
    """Leave what the app is made of out of the garbage collector's full passes.

    A worker holds some 200,000 long-lived objects (SQLAlchemy's mappers, compiled templates, catalogs) that
    never become garbage, yet every full collection walks them all (about 70 ms here), during which the worker
    answers nobody, and requests queued behind it make the slowest 1% of page views (issue 10's p99).
    ``gc.freeze()`` moves them out of the collector's sight; objects made later are collected as before.
    """
    import gc

    gc.freeze()
