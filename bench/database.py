"""Preparing the portal's database through its own CLI: migrate, load the demo data, create personal links."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit

from bench.context import PROJECT_ROOT


def flask_cli(env: dict[str, str], *args: str) -> str:
    """Run ``flask --app portal ARGS`` with this environment and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portal", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def prepare_database(env: dict[str, str], *, reset_postgres: bool) -> None:
    """Migrate PORTAL_DATABASE_URL and load the demo data; a given PostgreSQL database is emptied first."""
    if reset_postgres:
        reset_postgres_schema(env["PORTAL_DATABASE_URL"])
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "demo", "load")


def reset_postgres_schema(url: str) -> None:
    """Drop and recreate the schema ``public``, so the bench starts from an empty database."""
    import psycopg

    scheme = urlsplit(url).scheme
    if not scheme.startswith("postgres"):
        raise ValueError("--database-url must be a postgresql:// URL")
    conninfo = "postgresql" + url.removeprefix(scheme)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")


def create_link_path(env: dict[str, str], customer_ref: str) -> str:
    """Create a personal link for the customer and return its path, ``/p/<token>``."""
    url = flask_cli(env, "links", "create", customer_ref).strip().splitlines()[-1]
    path = urlsplit(url).path
    if not path.startswith("/p/"):
        raise RuntimeError(f"flask links create printed no personal link: {url!r}")
    return path
