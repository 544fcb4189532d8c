"""The rate limiter, checking only the routes that have a limit of their own.

Flask-Limiter checks every request before its view runs, also when the route has no limit: working out that
there is none took about 4% of an overview's instructions (issue 10). Nothing is limited by default, so a
route without a ``@limiter.limit`` of its own is skipped by a request filter that looks its view up once.
Should a default or application-wide limit ever be configured, every request is checked again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_limiter import Limiter


def _qualified_name(view: Any) -> str:
    # As Flask-Limiter names a view when it stores the view's limits (flask_limiter.util.get_qualified_name).
    return f"{view.__module__}.{view.__name__}"


class RouteLimiter(Limiter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limited_views: set[str] = set()
        self._limits_everything = False
        self._endpoint_has_limits: dict[str, bool] = {}
        self.request_filter(self._route_has_no_limits)

    def limit(self, *args: Any, **kwargs: Any) -> Any:
        decorator = super().limit(*args, **kwargs)

        def decorate(target: Callable[..., Any]) -> Any:
            if callable(target) and hasattr(target, "__module__") and hasattr(target, "__name__"):
                self._limited_views.add(_qualified_name(target))
            else:
                self._limits_everything = True  # a blueprint's limit: check every request, as without the filter
            self._endpoint_has_limits.clear()
            return decorator(target)

        return decorate

    def _route_has_no_limits(self) -> bool:
        if self._limits_everything or self.limit_manager.default_limits or self.limit_manager.application_limits:
            return False
        endpoint = request.endpoint or ""
        has_limits = self._endpoint_has_limits.get(endpoint)
        if has_limits is None:
            view = current_app.view_functions.get(endpoint)
            has_limits = view is not None and _qualified_name(view) in self._limited_views
            self._endpoint_has_limits[endpoint] = has_limits
        return not has_limits
