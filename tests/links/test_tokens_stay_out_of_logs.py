"""A personal-link token opens someone's financial page: no log the portal writes or configures keeps it."""

from __future__ import annotations

import http.client
import logging
import runpy
import threading
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent.parent
PORT = 18601


def _through_the_development_server(app, paths) -> list[int]:
    """GET each path from werkzeug's development server (the one ``make run`` starts); their statuses."""
    server = make_server("127.0.0.1", PORT, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    statuses = []
    try:
        for path in paths:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            connection.close()
            statuses.append(response.status)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    return statuses


def test_the_development_servers_request_log_never_shows_the_token(app, create_customer, issue_link, caplog):
    issued = issue_link(create_customer())
    caplog.set_level(logging.INFO, logger="werkzeug")
    paths = (f"/p/{issued.token}", f"/p/{issued.token}?method=ideal", f"/language/en?next=/p/{issued.token}")
    assert _through_the_development_server(app, paths) == [302, 302, 302]

    request_lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert len(request_lines) == 3, "every request is still logged"
    assert all("/p/[redacted]" in line for line in request_lines)
    assert issued.token not in caplog.text


# How else a browser, a mail client or an attacker may spell the slash after /p: the app opens the link for
# the encoded slash (and the encoded p), and the development server logs a backslash as two.
OTHER_SPELLINGS = ["/p%2F", "/p%2f", "/p%5C", "/p%5c", "/p\\", "/p%252F", "/p%2F%5C", "/%70/"]


@pytest.mark.parametrize("prefix", OTHER_SPELLINGS)
def test_no_spelling_of_the_link_shows_the_token_in_the_request_log(app, create_customer, issue_link, caplog, prefix):
    issued = issue_link(create_customer())
    caplog.set_level(logging.INFO, logger="werkzeug")
    _through_the_development_server(app, [f"{prefix}{issued.token}"])

    request_lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert len(request_lines) == 1 and "[redacted]" in request_lines[0], "the request is still logged"
    assert issued.token not in caplog.text


@pytest.mark.parametrize("prefix", [*OTHER_SPELLINGS, "%2Fp%5C", "%252Fp%252F", "\\p/"])
def test_the_apps_own_loggers_never_show_the_token_however_it_is_spelled(app, caplog, prefix):
    token = "T" * 43
    logging.getLogger("portal.links.views").warning("came from https://pay.example.com%s%s", prefix, token)
    assert f"{prefix}[redacted]" in caplog.text
    assert token not in caplog.text


def test_other_addresses_are_logged_as_they_are(app, caplog):
    addresses = ["/plan/3", "/pay/abc123", "/help/pdf%2Fguide", "/overview?tab=p%2Fq", "/static/up%2Fdown.css"]
    for address in addresses:
        logging.getLogger("portal.links.views").warning("opened %s", address)
    assert "[redacted]" not in caplog.text
    assert all(address in caplog.text for address in addresses)


def test_the_apps_own_loggers_never_show_the_token(app, caplog):
    token = "T" * 43
    with app.app_context():
        app.logger.warning("could not open %s", f"/p/{token}")
    logging.getLogger("portal.payments.views").warning("came from https://pay.example.com/p/%s", token)
    assert "/p/[redacted]" in caplog.text
    assert token not in caplog.text


def _gunicorn_logger(tmp_path: Path, access_log_format: str | None = None):
    cfg = Config()
    for name, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if name in cfg.settings:
            cfg.set(name, value)
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    if access_log_format:
        cfg.set("access_log_format", access_log_format)
    return cfg.logger_class(cfg)


@pytest.mark.parametrize(
    "access_log_format",
    [None, '%(h)s "%(r)s" %(s)s %(U)s?%(q)s %({raw_uri}e)s %({referer}i)s "%(f)s" %({location}o)s'],
)
def test_gunicorns_access_and_error_logs_never_show_the_token(tmp_path, access_log_format):
    token = "Ab3_" + "x" * 39
    logger = _gunicorn_logger(tmp_path, access_log_format)
    referer = f"https://webmail.example/read?u=https%3A%2F%2Fpay.example.com%2Fp%2F{token}"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/p/{token}?method=ideal",
        "PATH_INFO": f"/p/{token}",
        "QUERY_STRING": "method=ideal",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.7",
        "HTTP_REFERER": referer,
        "HTTP_USER_AGENT": "Mozilla/5.0",
    }
    request = SimpleNamespace(headers=[("REFERER", referer)])
    response = SimpleNamespace(status="302 FOUND", sent=0, headers=[("Location", "/overview")])
    try:
        logger.access(response, request, environ, timedelta(milliseconds=7))
        logger.error("Error handling request /p/%s", token)
    finally:
        for log in (logger.access_log, logger.error_log):
            for handler in log.handlers:
                handler.close()

    access = (tmp_path / "access.log").read_text()
    assert "192.0.2.7" in access and "/p/[redacted]" in access, "the request is still logged, without its token"
    assert token not in access
    assert token not in (tmp_path / "error.log").read_text()


@pytest.mark.parametrize("prefix", OTHER_SPELLINGS)
def test_gunicorns_access_log_never_shows_the_token_however_it_is_spelled(tmp_path, prefix):
    token = "Ab3_" + "y" * 39
    logger = _gunicorn_logger(tmp_path, '"%(r)s" %(s)s %({raw_uri}e)s')
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{prefix}{token}",
        "PATH_INFO": f"/p/{token}",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.7",
    }
    response = SimpleNamespace(status="302 FOUND", sent=0, headers=[("Location", "/overview")])
    try:
        logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=7))
    finally:
        for log in (logger.access_log, logger.error_log):
            for handler in log.handlers:
                handler.close()

    access = (tmp_path / "access.log").read_text()
    assert f"{prefix}[redacted]" in access, access
    assert token not in access
