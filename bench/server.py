"""Serving an app with gunicorn on a free port of 127.0.0.1, and always stopping it again."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bench.context import PROJECT_ROOT, Settings

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# The last line of a Python traceback, e.g. "sqlite3.OperationalError: database is locked".
EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)): ?(.*)$")


@dataclass
class Server:
    """A running gunicorn: where it listens and where it logs."""

    host: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def exceptions(self) -> dict[str, int]:
        """Count the exceptions the server logged (the last line of each traceback), most frequent first."""
        counts: Counter[str] = Counter()
        if self.log_path.exists():
            for line in self.log_path.read_text(errors="replace").splitlines():
                if EXCEPTION_LINE.match(line):
                    counts[line[:200]] += 1
        return dict(counts.most_common())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def gunicorn_command(app_spec: str, port: int, settings: Settings, log_path: Path) -> list[str]:
    """The gunicorn command line; only the app differs between scenarios."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        app_spec,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(settings.workers),
        "--worker-class",
        settings.worker_class,
        "--threads",
        str(settings.threads),
        "--log-level",
        "warning",
        "--error-logfile",
        str(log_path),
    ]
    if _has_control_socket():
        command.append("--no-control-socket")
    return command


def _has_control_socket() -> bool:
    """gunicorn 25.1 and later open a control socket in ~/.gunicorn unless told not to."""
    from gunicorn.config import Config

    return "control_socket_disable" in Config().settings


@contextmanager
def serve(app_spec: str, env: dict[str, str], settings: Settings, log_dir: Path) -> Iterator[Server]:
    """Start gunicorn in its own process group, wait until it answers, and stop the whole group on exit."""
    port = free_port()
    log_path = log_dir / f"gunicorn-{port}.log"
    process = subprocess.Popen(
        gunicorn_command(app_spec, port, settings, log_path),
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server("127.0.0.1", port, log_path, process)
    try:
        _wait_until_listening(server)
        yield server
    finally:
        stop(process)


def _wait_until_listening(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{_tail(server.log_path)}")
        try:
            with socket.create_connection((server.host, server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not listen within {START_TIMEOUT_S:.0f} s:\n{_tail(server.log_path)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (master and workers); SIGKILL it if the master has not exited in time.

    The master is reaped only here, so its pid (the group's id) cannot have been reused by then.
    """
    if process.poll() is None:
        with suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=STOP_TIMEOUT_S)
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
