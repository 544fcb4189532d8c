"""With PORTAL_CELERY_BROKER_URL set, a committed message is delivered by a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import delete, select

from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.notifications.services import queue_email
from tests.conftest import TEST_SETTINGS
from tests.fixtures.factories import TEST_ACTOR

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROKER = os.environ.get("PORTAL_TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")


def test_a_celery_worker_delivers_what_a_commit_queued(make_app, database_url, smtp_server, tmp_path):
    celery_app = make_app(CELERY_BROKER_URL=BROKER, SMTP_URL=smtp_server.url, SMTP_FROM="noreply@celery-test.example")
    celery = celery_app.extensions["portal_celery"]
    celery.control.purge()
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": TEST_SETTINGS["SECRET_KEY"],
        "PORTAL_CELERY_BROKER_URL": BROKER,
        "PORTAL_SMTP_URL": smtp_server.url,
        "PORTAL_SMTP_FROM": "noreply@celery-test.example",
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(  # noqa: S603 - Celery's own command line
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal.worker",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with celery_app.app_context():
            message = queue_email(
                db.session,
                to="someone@celery-test.example",
                template="portal_link",
                language="en",
                actor=TEST_ACTOR,
                context={"customer_name": "Someone", "link_url": "http://localhost/p/abc", "expires_on": _now()},
            )
            message_id = message.id
            assert smtp_server.received == [], "nothing goes out before the commit"
            db.session.commit()
        deadline = time.monotonic() + 60
        while not smtp_server.received and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        if not smtp_server.received:
            pytest.fail("the worker delivered nothing: " + (tmp_path / "worker.log").read_text()[-2000:])
        assert smtp_server.received[0]["Subject"].startswith("Your personal payment page")
        with celery_app.app_context():
            deadline = time.monotonic() + 10
            while db.session.get(OutboxMessage, message_id).state != "sent" and time.monotonic() < deadline:
                db.session.rollback()
                time.sleep(0.1)
            assert db.session.scalars(select(OutboxMessage.state).where(OutboxMessage.id == message_id)).one() == "sent"
    finally:
        worker.terminate()
        worker.wait(20)
        log.close()
        with celery_app.app_context():
            db.session.execute(delete(OutboxMessage).where(OutboxMessage.recipient.like("%@celery-test.example")))
            db.session.commit()


def _now():
    from portal.clock import now as utcnow

    return utcnow()
