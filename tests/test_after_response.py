"""Work after the response: run when the server closes the response, once, and also when a server never does
(werkzeug's development server skips the close when the browser resets the connection)."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from werkzeug.wrappers import Response

from portal import after_response
from portal.after_response import run_after_response


def _queue(app: Flask, done: list[str], event: threading.Event) -> Response:
    response = Response("ok")
    with app.test_request_context("/"):

        def work() -> None:
            done.append(threading.current_thread().name)
            event.set()

        run_after_response(response, work, what="a test")
    return response


@pytest.fixture(autouse=True)
def _quick_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(after_response, "RUN_AT_THE_LATEST_SECONDS", 0.2)


def test_the_work_runs_once_when_the_response_is_closed(app: Flask) -> None:
    done: list[str] = []
    event = threading.Event()
    response = _queue(app, done, event)
    response.close()
    assert done == [threading.current_thread().name], "in the closing thread, at once"
    response.close()
    time.sleep(0.5)  # past the fallback's moment
    assert len(done) == 1, "never twice: neither a second close nor the fallback runs it again"


def test_the_work_runs_even_when_the_server_never_closes_the_response(app: Flask) -> None:
    done: list[str] = []
    event = threading.Event()
    _queue(app, done, event)  # never closed, as when werkzeug's server skips the close
    assert event.wait(3), "the fallback ran it"
    assert len(done) == 1 and done[0] != threading.current_thread().name
