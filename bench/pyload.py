"""The load generator for machines without wrk: keep-alive http.client connections in several processes.

The connections are spread over one process per core (the GIL would make threads of one process the
bottleneck); each connection is a thread that sends a request as soon as the previous answer is read.
All processes share one clock (CLOCK_MONOTONIC), a common start, warm-up end and end.
"""

from __future__ import annotations

import http.client
import itertools
import math
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.context import Settings
from bench.load import LoadResult, Target

START_DELAY_S = 0.5  # time for the processes to start before the common start
GIVE_UP_AFTER_S = 60.0  # after the window closed: every request has a 10 s time-out, so this is plenty


@dataclass
class Tally:
    """What the connections of one process saw in the measurement window."""

    latencies_ms: list[float] = field(default_factory=list)
    good: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.latencies_ms.extend(other.latencies_ms)
        self.good += other.good
        self.errors.update(other.errors)


def run_python_load(target: Target, settings: Settings) -> LoadResult:
    """Run the warm-up and the measurement window in one go and combine the processes' tallies."""
    processes = max(1, min(settings.connections, os.cpu_count() or 1))
    shares = [settings.connections // processes + (i < settings.connections % processes) for i in range(processes)]
    start = time.monotonic() + START_DELAY_S
    window = (start + settings.warmup_s, start + settings.warmup_s + settings.duration_s)
    offsets = [sum(shares[:i]) for i in range(processes)]
    jobs = [
        (target, share, offset, settings.connections, start, window)
        for share, offset in zip(shares, offsets, strict=True)
    ]
    # A load process that dies outright (killed, out of memory) never answers, and Pool would wait for it
    # forever: give up a while after the window has closed instead.
    deadline = START_DELAY_S + settings.warmup_s + settings.duration_s + GIVE_UP_AFTER_S
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        try:
            tallies = pool.starmap_async(_process_main, jobs).get(timeout=deadline)
        except multiprocessing.TimeoutError:
            raise RuntimeError(f"a load process gave no result {deadline:.0f} s after the start") from None
    total = Tally()
    for tally in tallies:
        total.add(tally)
    latencies = sorted(total.latencies_ms)
    return LoadResult(
        requests=len(latencies),
        good=total.good,
        duration_s=float(settings.duration_s),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        errors=dict(sorted(total.errors.items())),
    )


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _process_main(
    target: Target, connections: int, first: int, every: int, start: float, window: tuple[float, float]
) -> Tally:
    """Run ``connections`` connections; connection ``first + i`` of ``every`` takes every ``every``-th cookie."""
    tallies = [Tally() for _ in range(connections)]
    threads = [
        threading.Thread(
            target=_connection_loop,
            args=(target, _cookies(target, first + i, every), start, window, tally),
            daemon=True,
        )
        for i, tally in enumerate(tallies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Tally()
    for tally in tallies:
        total.add(tally)
    return total


def _cookies(target: Target, index: int, every: int) -> Iterator[dict[str, str]]:
    """The headers of each request of connection ``index``: the cookies are dealt round-robin over the
    connections, so together they visit every session in turn, each connection its own share of them."""
    if not target.cookies:
        return itertools.repeat(target.headers)
    share = target.cookies[index % len(target.cookies) :: every] or target.cookies
    return itertools.cycle([{**target.headers, "Cookie": cookie} for cookie in share])


def _connection_loop(
    target: Target, headers: Iterator[dict[str, str]], start: float, window: tuple[float, float], tally: Tally
) -> None:
    """Request until the window closes; the requests that end inside the window are counted."""
    parts = urlsplit(target.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    marker = target.marker.encode()
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=10)
    time.sleep(max(0.0, start - time.monotonic()))
    window_start, window_end = window
    while (began := time.monotonic()) < window_end:
        outcome = _request(connection, path, next(headers), marker)
        ended = time.monotonic()
        if window_start <= ended <= window_end:
            tally.latencies_ms.append((ended - began) * 1000)
            if outcome is None:
                tally.good += 1
            else:
                tally.errors[outcome] += 1
    connection.close()


def _request(connection: http.client.HTTPConnection, path: str, headers: dict[str, str], marker: bytes) -> str | None:
    """Send one request; return None for a good response, else what was wrong with it."""
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.will_close:
            connection.close()  # gunicorn's sync worker answers "Connection: close"; the next request reconnects
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        time.sleep(0.01)  # do not spin if the server is gone
        return type(error).__name__
    if response.status != 200:
        return str(response.status)
    if marker and marker not in body:
        return "200 without marker"
    return None
