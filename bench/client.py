"""Single HTTP requests for a scenario's set-up: log in through a personal link, check a page once."""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass
from email.message import Message
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from bench.load import Target


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: str


def fetch(url: str, headers: dict[str, str] | None = None) -> Reply:
    """GET the URL without following redirects."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.msg, response.read().decode("utf-8", errors="replace"))
    finally:
        connection.close()


def session_cookie(url: str, name: str, expect_location: str) -> str:
    """Open a URL that logs in and redirects; return the ``Cookie`` header value carrying the session."""
    reply = fetch(url)
    location = reply.headers.get("Location", "")
    if reply.status != 302 or urlsplit(location).path != expect_location:
        raise RuntimeError(
            f"{url} answered {reply.status} to {location or 'nowhere'}, not a redirect to {expect_location}"
        )
    cookie: SimpleCookie = SimpleCookie()
    for header in reply.headers.get_all("Set-Cookie") or []:
        cookie.load(header)
    if name not in cookie:
        raise RuntimeError(f"{url} set no {name} cookie")
    return f"{name}={cookie[name].value}"


def check_target(target: Target) -> str:
    """Request the target once; fail unless the answer is good. Returns the page's first heading."""
    reply = fetch(target.url, target.headers)
    if reply.status != 200 or target.marker not in reply.body:
        raise RuntimeError(f"{target.url} answered {reply.status} without {target.marker!r}:\n{reply.body[:500]}")
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", reply.body, re.DOTALL)
    return " ".join(heading.group(1).split()) if heading else reply.body[:60]
