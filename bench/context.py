"""The settings of one bench run and the shared state the scenarios draw on (work folder, portal database)."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """What the user chose on the command line; the same for every scenario of the run."""

    workers: int
    worker_class: str
    threads: int
    connections: int
    warmup_s: int
    duration_s: int
    load_tool: str  # "wrk" or "python", resolved from "auto" before the run
    database_url: str | None  # None: a fresh SQLite file in the work folder
    customer_ref: str

    def describe(self) -> dict[str, Any]:
        """The settings as shown in the report, with any database password masked."""
        described = asdict(self)
        described["database_url"] = (
            mask_password(self.database_url) if self.database_url else "sqlite (fresh temp file)"
        )
        return described


@dataclass
class BenchContext:
    """Handed to every scenario: the settings, a private work folder and the lazily prepared portal."""

    settings: Settings
    workdir: Path
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Keep a line for the report, and show it now as progress."""
        self.notes.append(text)
        progress(text)

    @property
    def base_env(self) -> dict[str, str]:
        """Environment for a server that needs nothing of the portal."""
        return dict(os.environ)

    @cached_property
    def portal_env(self) -> dict[str, str]:
        """Environment for the portal's CLI and server, with a migrated database holding the demo data."""
        from bench.database import prepare_database

        url = self.settings.database_url or f"sqlite:///{self.workdir / 'portal.sqlite3'}"
        progress("preparing the portal database (migrate, demo data)")
        env = self.base_env
        env.update(
            PORTAL_DATABASE_URL=url,
            PORTAL_SECRET_KEY=secrets.token_urlsafe(32),
            PORTAL_BASE_URL="http://127.0.0.1",
            PORTAL_LINK_RATE_LIMIT="1000000 per minute",
        )
        prepare_database(env, reset_postgres=self.settings.database_url is not None)
        return env


def progress(text: str) -> None:
    """Progress goes to stderr, so stdout holds only the report."""
    print(f"bench: {text}", file=sys.stderr, flush=True)


def mask_password(url: str) -> str:
    """Return the URL with the password, if any, replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
