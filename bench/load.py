"""Load generation: what to request, what a result holds, and the choice between wrk and the Python fallback."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.context import Settings


@dataclass(frozen=True)
class Target:
    """One URL requested over and over; a response is good if it is a 200 whose body contains ``marker``.

    ``cookies``, if given, are ``Cookie`` header values (one per debtor's session) that the requests take in
    turn, so the load is many different people, not one person reloading.
    """

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    marker: str = ""
    cookies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """A correctness check a scenario made after its load; a failed one makes the scenario's numbers invalid."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class LoadResult:
    """What one measurement window gave. ``good_per_s`` counts only good responses."""

    requests: int  # every response or failed attempt in the window
    good: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]  # "500": 3, "200 without marker": 1, "read error": 2, ...
    unit: str = "req/s"
    server_exceptions: dict[str, int] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    @property
    def failed_checks(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    @property
    def good_per_s(self) -> float:
        return self.good / self.duration_s if self.duration_s else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def resolve_load_tool(choice: str) -> str:
    """``auto`` means wrk when it is on PATH, else the Python load generator."""
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if choice == "wrk" and not shutil.which("wrk"):
        raise SystemExit("--load-tool wrk: wrk is not on PATH (Debian: apt-get install wrk)")
    return choice


def load_tool_version(tool: str) -> str:
    """A one-line description of the load generator, for the report."""
    if tool != "wrk":
        return "python (http.client, multiprocessing)"
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split(" Copyright")[0].strip() if first else "wrk"


def measure(target: Target, settings: Settings, workdir: Path) -> LoadResult:
    """Warm up for ``settings.warmup_s``, then measure for ``settings.duration_s`` with the chosen tool."""
    if settings.load_tool == "wrk":
        from bench.wrk import run_wrk

        return run_wrk(target, settings, workdir)
    from bench.pyload import run_python_load

    return run_python_load(target, settings)
