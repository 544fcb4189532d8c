"""gunicorn settings for the portal. gunicorn reads ./gunicorn.conf.py by itself when started from the
checkout (``gunicorn wsgi:app``); ``--config gunicorn.conf.py`` says so explicitly. Command-line options
(workers, bind, ``--access-logfile -``) override what is set here."""

# Personal-link tokens (/p/<token>) never reach the access or error log.
logger_class = "portal.gunicorn_logger.RedactingLogger"
