"""The rate limiter checks the routes that have a limit of their own, and every route once a default exists."""

from __future__ import annotations

from flask import Flask

from portal.route_limits import RouteLimiter


def _app_with(limiter: RouteLimiter) -> Flask:
    app = Flask(__name__)
    app.config["RATELIMIT_STORAGE_URI"] = "memory://"

    @app.get("/limited")
    @limiter.limit("2 per minute")
    def limited() -> str:
        return "limited"

    @app.get("/free")
    def free() -> str:
        return "free"

    limiter.init_app(app)
    return app


def _statuses(app: Flask, path: str, times: int) -> list[int]:
    client = app.test_client()
    return [client.get(path).status_code for _ in range(times)]


def test_a_route_with_a_limit_of_its_own_is_limited_and_one_without_is_not():
    app = _app_with(RouteLimiter(key_func=lambda: "one client", default_limits=[]))
    assert _statuses(app, "/limited", 3) == [200, 200, 429]
    assert _statuses(app, "/free", 5) == [200] * 5


def test_a_default_limit_applies_to_every_route_again():
    app = _app_with(RouteLimiter(key_func=lambda: "one client", default_limits=["3 per minute"]))
    assert _statuses(app, "/free", 4) == [200, 200, 200, 429]
    assert _statuses(app, "/limited", 3) == [200, 200, 429]
