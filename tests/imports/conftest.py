"""Helpers for the import tests: read a file the way the preview does, and show problems in English."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from portal.audit.services import Actor
from portal.imports.cli import import_cli
from portal.imports.services import Outcome, check_file, import_file
from tests.imports.helpers import ZONE, as_bytes

TEST_ACTOR = Actor(type="system", id="tests")


@pytest.fixture()
def english(app: Flask) -> Iterator[None]:
    """Messages as an English-speaking member of staff reads them."""
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


@pytest.fixture()
def check(session, english) -> Callable[..., Outcome]:
    def run(kind: str, content: str | bytes) -> Outcome:
        return check_file(session, kind, as_bytes(content), zone=ZONE)

    return run


@pytest.fixture()
def do_import(session, english) -> Callable[..., Outcome]:
    """Import and commit (to the test's savepoint), as the CLI and the background job do."""

    def run(kind: str, content: str | bytes) -> Outcome:
        outcome = import_file(session, kind, as_bytes(content), actor=TEST_ACTOR, zone=ZONE, source="test.csv")
        session.commit()
        return outcome

    return run


@pytest.fixture()
def cli(app: Flask, session) -> Callable[..., object]:
    """``flask import ...`` on the test app (registered here until portal/cli.py registers it)."""
    if "import" not in app.cli.commands:
        app.cli.add_command(import_cli)
    runner = app.test_cli_runner()

    def invoke(*args: str) -> object:
        return runner.invoke(args=["import", *args])

    return invoke
