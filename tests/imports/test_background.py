"""Imports in the background: progress in the job's row, readable by any process; Celery runs them when configured.

These tests commit for real (another process must see the job), in a database of their own: the audit trail
keeps every import for good, and the other tests expect only their own in the shared database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.db import make_engine
from portal.extensions import db
from portal.imports import jobs, services
from portal.imports.models import ImportJob
from portal.migrate import upgrade_to_head
from tests.conftest import TEST_SETTINGS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROKER = os.environ.get("PORTAL_TEST_IMPORTS_BROKER_URL", "redis://127.0.0.1:6379/13")
REF = "BG-"
HEADER = "external_ref,name,email,phone,language,kind,country,street,postal_code,city,time_zone\n"
ACTOR = Actor(type="staff", id="importer@example.nl")
# The progress fragment, as another web worker (another process) serves it: read from the database only.
READ_PROGRESS = """
import sys
from portal import create_app
from portal.imports import views
app = create_app()
with app.test_request_context("/", headers={"Accept-Language": "en"}):
    print(views.progress.__wrapped__(int(sys.argv[1])).get_data(as_text=True))
"""


def _csv(rows: int) -> bytes:
    lines = [
        f"{REF}{n},Klant {n},klant{n}@example.nl,,nl,consumer,NL,Straat {n},1234 AB,Utrecht,\n" for n in range(rows)
    ]
    return (HEADER + "".join(lines)).encode()


@pytest.fixture(scope="module")
def own_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('imports_background') / 'imports.sqlite3'}"
    else:  # a schema of its own in the test database
        engine = make_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS imports_background CASCADE"))
            connection.execute(text("CREATE SCHEMA imports_background"))
        engine.dispose()
        url = database_url + ("&" if "?" in database_url else "?") + "options=-csearch_path%3Dimports_background"
    upgrade_to_head(url)
    return url


@pytest.fixture()
def committed(own_database: str, app: Flask) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(own_database)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    yield factory
    with factory() as session:
        session.execute(delete(Customer).where(Customer.external_ref.like(f"{REF}%")))
        session.execute(delete(ImportJob))
        session.commit()
    engine.dispose()
    db.scoped.remove()
    db.scoped.configure(bind=app.extensions["portal_db_engine"])  # the apps built here bound it to their database


def _queued_job(factory: sessionmaker[Session], rows: int) -> int:
    with factory() as session:
        job = ImportJob(
            kind="customers",
            filename="customers.csv",
            content=_csv(rows),
            state="queued",
            total_rows=rows,
            summary={"error_count": 0},
            created_by=ACTOR.id,
        )
        session.add(job)
        session.commit()
        return job.id


def _row(factory: sessionmaker[Session], job_id: int) -> ImportJob:
    with factory() as session:
        return session.scalars(select(ImportJob).where(ImportJob.id == job_id)).one()


def _progress_from_another_process(own_database: str, job_id: int) -> str:
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": own_database,
        "PORTAL_SECRET_KEY": TEST_SETTINGS["SECRET_KEY"],
        "PORTAL_SCHEDULER": "off",
    }
    env.pop("PORTAL_CELERY_BROKER_URL", None)
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", READ_PROGRESS, str(job_id)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return " ".join(result.stdout.split())


def test_another_process_sees_the_progress_of_an_import_while_it_runs_and_its_end(
    make_app, own_database, committed, monkeypatch
):
    monkeypatch.setattr("portal.imports.customers.PROGRESS_EVERY", 2)
    job_id = _queued_job(committed, 6)
    reached, go_on = threading.Event(), threading.Event()
    read_customers = services.read_customers

    def read_with_a_pause(table, problems, on_row=None):
        def heard(rows: int) -> None:
            on_row(rows)  # the import records its progress, then is held here while another process looks
            if rows == 4:
                reached.set()
                go_on.wait(60)

        return read_customers(table, problems, heard)

    monkeypatch.setattr(services, "read_customers", read_with_a_pause)
    web = make_app(DATABASE_URL=own_database)
    with web.test_request_context("/"):
        thread = jobs.start_import_job(job_id, ACTOR)
    assert thread is not None, "no broker: a thread of this process runs it"
    try:
        assert reached.wait(60), "the import never got to row 4"
        fragment = _progress_from_another_process(own_database, job_id)
        assert "Importing…" in fragment
        assert "Step 1 of 2, checking the rows: 4 of 6" in fragment
        assert 'max="12" value="4"' in fragment
        running = _row(committed, job_id)
        assert (running.state, running.progress_step, running.processed_rows) == ("running", "checking", 4)
    finally:
        go_on.set()
        thread.join(60)

    done = _row(committed, job_id)
    assert (done.state, done.processed_rows, done.summary["counts"]["created"]) == ("done", 6, 6)
    assert "The import has ended: show the result" in _progress_from_another_process(own_database, job_id)


def test_with_a_broker_the_import_is_a_celery_task_that_a_worker_runs(make_app, own_database, committed, tmp_path):
    web = make_app(DATABASE_URL=own_database, CELERY_BROKER_URL=BROKER)
    celery = web.extensions["portal_celery"]
    celery.control.purge()
    job_id = _queued_job(committed, 3)
    threads_before = {thread.name for thread in threading.enumerate()}
    with web.test_request_context("/"):
        assert jobs.start_import_job(job_id, ACTOR) is None, "queued for a worker, not run in a thread"
    assert f"import-{job_id}" not in {thread.name for thread in threading.enumerate()} - threads_before
    assert not jobs.is_running_here(job_id)
    assert _row(committed, job_id).state == "queued", "nothing runs it in the web process"

    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": own_database,
        "PORTAL_SECRET_KEY": TEST_SETTINGS["SECRET_KEY"],
        "PORTAL_CELERY_BROKER_URL": BROKER,
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(  # noqa: S603 - Celery's own command line
        [sys.executable, "-m", "celery", "-A", "portal.worker", "worker", "--pool=solo", "--concurrency=1"]
        + ["--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while _row(committed, job_id).state in ("queued", "running") and time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(20)
        log.close()
    done = _row(committed, job_id)
    assert (done.state, done.processed_rows, done.summary["counts"]["created"]) == ("done", 3, 3), (
        tmp_path / "worker.log"
    ).read_text()[-2000:]
    with committed() as session:
        imported = session.scalars(select(Customer.external_ref).where(Customer.external_ref.like(f"{REF}%"))).all()
    assert sorted(imported) == [f"{REF}0", f"{REF}1", f"{REF}2"]


def test_two_runners_of_one_job_at_the_same_moment_import_it_once(make_app, own_database, committed, monkeypatch):
    """Sending the task raised although the broker took it: this process and a worker both start the job."""
    job_id = _queued_job(committed, 3)
    web = make_app(DATABASE_URL=own_database)
    both_looked = threading.Barrier(2, timeout=20)
    real_clock, first_call = jobs.clock, threading.local()

    class _MeetingClock:
        """Both runners have looked at the job before either goes on: the moment a double start happens."""

        @staticmethod
        def now():  # noqa: ANN205
            if not getattr(first_call, "done", False):
                first_call.done = True
                both_looked.wait()
            return real_clock.now()

    imports = []
    real_import_file = jobs.import_file

    def counting_import_file(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        imports.append(threading.current_thread().name)
        return real_import_file(*args, **kwargs)

    monkeypatch.setattr(jobs, "clock", _MeetingClock)
    monkeypatch.setattr(jobs, "import_file", counting_import_file)
    errors = []

    def run() -> None:
        try:
            with web.app_context():
                jobs.run_import_job(job_id, ACTOR)
                db.scoped.remove()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    runners = [threading.Thread(target=run, name=f"runner-{n}") for n in (1, 2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(60)

    assert len(imports) == 1, f"the job ran {len(imports)} times; errors: {errors}"
    done = _row(committed, job_id)
    assert (done.state, done.summary["counts"]["created"]) == ("done", 3)
