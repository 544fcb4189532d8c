"""Request-level plumbing shared by every blueprint: client address, security headers, safe redirects."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)


def client_address() -> str:
    """The client's address; behind a proxy ProxyFix (PORTAL_TRUSTED_PROXIES) has already set it."""
    return request.remote_addr or "unknown"


# Every answer's headers, unless the view set its own (one added only over https, one only to pages).
_ALWAYS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)
_OVER_HTTPS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
# Pages show personal financial data: never keep them in a shared cache or the back-forward cache.
_PAGES_ONLY = ("Cache-Control", "no-store")


def add_security_headers(response: Response) -> Response:
    # One pass over the headers the view set, not one per header: a setdefault each scanned them all, and
    # together they were 2.6% of an overview's instructions (issue 10).
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    added = [(name, value) for name, value in _ALWAYS if name.lower() not in present]
    if request.is_secure and "strict-transport-security" not in present:
        added.append(_OVER_HTTPS)
    if request.endpoint != "static" and "cache-control" not in present:
        added.append(_PAGES_ONLY)
    headers.extend(added)
    return response


def safe_next_path(target: str | None, fallback: str) -> str:
    """Only a same-site relative path, so a crafted ?next= can neither send anyone elsewhere nor break the
    redirect: no scheme or host (``https:``, ``//host``, ``/\\host``, which browsers read as ``//host``) and
    no control characters (a CR/LF would split the Location header; werkzeug refuses it with a 500)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    if any(unicodedata.category(ch).startswith("C") for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def init_security(app: Flask) -> None:
    app.after_request(add_security_headers)


def qr_code_svg(qr: Any, title: str, scale: int = 4) -> str:
    """A segno QR code as inline SVG that screen readers announce as an image with ``title`` as its name."""
    svg = qr.svg_inline(scale=scale, border=4, title=title, dark="#000", light="#fff")
    return svg.replace("<svg ", '<svg role="img" ', 1)
