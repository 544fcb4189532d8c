"""Load with wrk: a Lua script checks every response and prints one JSON summary line at the end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bench.context import Settings
from bench.load import LoadResult, Target

RESULT_PREFIX = "BENCH_JSON "
# Failed attempts that wrk does not count among its requests (every HTTP response, good or bad, it does).
SOCKET_ERRORS = ("connect error", "read error", "write error", "timeout")

# Per-thread counters are globals of that thread's Lua state; done() adds them up through thread:get().
SCRIPT = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  marker = args[1] or ""
  good = 0
  bad = {}
  -- args[2], if given, is a file with one Cookie header value per line (see COOKIE_SCRIPT).
  cookies = {}
  if args[2] then
    for line in io.lines(args[2]) do
      if line ~= "" then table.insert(cookies, line) end
    end
  end
  next_cookie = 0
end

function response(status, headers, body)
  if status == 200 and (marker == "" or string.find(body, marker, 1, true)) then
    good = good + 1
  else
    local key = status == 200 and "200 without marker" or tostring(status)
    bad[key] = (bad[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total_good, total_bad = 0, {}
  for _, thread in ipairs(threads) do
    total_good = total_good + thread:get("good")
    for key, count in pairs(thread:get("bad")) do
      total_bad[key] = (total_bad[key] or 0) + count
    end
  end
  local e = summary.errors
  total_bad["connect error"] = e.connect
  total_bad["read error"] = e.read
  total_bad["write error"] = e.write
  total_bad["timeout"] = e.timeout
  local parts = {}
  for key, count in pairs(total_bad) do
    if count > 0 then
      table.insert(parts, string.format('"%s": %d', key, count))
    end
  end
  io.write(string.format(
    '%s{"requests": %d, "good": %d, "duration_us": %d, "p50_us": %.1f, "p99_us": %.1f, "errors": {%s}}\n',
    "BENCH_JSON ", summary.requests, total_good, summary.duration,
    latency:percentile(50), latency:percentile(99), table.concat(parts, ", ")))
end
"""

# Appended for a target with many sessions. wrk builds each request with request() only when the script
# defines it at the top level (it checks before init() runs), so it is defined here and falls back to the
# plain request in the main Lua state, where init() and the cookie file are never read.
COOKIE_SCRIPT = r"""
function request()
  if #cookies == 0 then
    return wrk.format()
  end
  next_cookie = next_cookie % #cookies + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Cookie"] = cookies[next_cookie]
  return wrk.format(nil, nil, headers)
end

cookies = {}
next_cookie = 0
"""


def wrk_command(
    target: Target, settings: Settings, script: Path, seconds: int, cookie_file: Path | None = None
) -> list[str]:
    """One wrk thread is enough on a small machine and leaves the cores to the server."""
    command = ["wrk", "--threads", "1", "--connections", str(settings.connections), "--duration", f"{seconds}s"]
    command += ["--timeout", "10s", "--latency", "--script", str(script)]
    for name, value in target.headers.items():
        command += ["--header", f"{name}: {value}"]
    return [*command, target.url, "--", target.marker, *([str(cookie_file)] if cookie_file else [])]


def run_wrk(target: Target, settings: Settings, workdir: Path) -> LoadResult:
    """A warm-up run whose numbers are thrown away, then the measured run."""
    script = workdir / "check.lua"
    script.write_text(SCRIPT + (COOKIE_SCRIPT if target.cookies else ""))
    cookie_file = None
    if target.cookies:
        cookie_file = workdir / "cookies.txt"
        cookie_file.write_text("\n".join(target.cookies) + "\n")
    if settings.warmup_s > 0:
        _run(wrk_command(target, settings, script, settings.warmup_s, cookie_file))
    summary = _run(wrk_command(target, settings, script, settings.duration_s, cookie_file))
    errors = summary["errors"] if isinstance(summary["errors"], dict) else {}  # "{}" decodes to a dict
    socket_errors = sum(count for key, count in errors.items() if key in SOCKET_ERRORS)
    return LoadResult(
        requests=int(summary["requests"]) + socket_errors,
        good=int(summary["good"]),
        duration_s=summary["duration_us"] / 1e6,
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        errors=dict(sorted(errors.items())),
    )


def _run(command: list[str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line.removeprefix(RESULT_PREFIX))
    raise RuntimeError(f"wrk printed no result (exit {done.returncode}):\n{done.stdout}{done.stderr}")
