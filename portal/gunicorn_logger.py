"""gunicorn's logger without personal-link tokens: ``logger_class`` in ``gunicorn.conf.py``.

Every access-log atom (the request line, path, query, referer, any header or environ value a format names)
is redacted before the line is written, and the error log is filtered like the app's own loggers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gunicorn import glogging  # type: ignore[import-untyped]

from portal.logs import RedactTokens, redact


class RedactingLogger(glogging.Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, RedactTokens) for existing in log.filters):
                log.addFilter(RedactTokens())

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
