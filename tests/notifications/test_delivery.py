"""Delivery under trouble: the SMTP server down, a worker killed mid-batch, two workers at once.

These tests commit for real (other connections and processes must see the rows), so they use their
own connections instead of the rolled-back test transaction, and remove their rows afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
import time_machine
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.clock import now as utcnow
from portal.db import make_engine
from portal.notifications import delivery
from portal.notifications.channels import SmtpChannel
from portal.notifications.models import OutboxMessage
from tests.conftest import TEST_SETTINGS

DOMAIN = "delivery-test.example"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture()
def db(database_url: str, app) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    yield factory
    with factory() as session:
        session.execute(delete(OutboxMessage).where(OutboxMessage.recipient.like(f"%@{DOMAIN}")))
        session.commit()
    engine.dispose()


def _queue(factory: sessionmaker[Session], count: int) -> list[int]:
    with factory() as session:
        messages = [
            OutboxMessage(
                recipient=f"person{n}@{DOMAIN}",
                template="test",
                language="nl",
                subject=f"Bericht {n}",
                body_text=f"Tekst {n}",
                body_html=f"<p>Tekst {n}</p>",
            )
            for n in range(count)
        ]
        session.add_all(messages)
        session.commit()
        return [message.id for message in messages]


def _states(factory: sessionmaker[Session], ids: list[int]) -> Counter[str]:
    with factory() as session:
        return Counter(session.scalars(select(OutboxMessage.state).where(OutboxMessage.id.in_(ids))))


def _make_due_again(factory: sessionmaker[Session], ids: list[int]) -> None:
    """Time passes: retry delays and leases run out."""
    past = utcnow() - timedelta(seconds=1)
    with factory() as session:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(next_attempt_at=past, claimed_until=past)
        )
        session.commit()


def _channel(url: str) -> SmtpChannel:
    return SmtpChannel(url, "Zonnig Energie", f"noreply@{DOMAIN}")


def _assert_each_received_once(smtp_server, ids: list[int]) -> None:
    counts = Counter(smtp_server.handler.message_ids())
    assert sorted(counts) == sorted(f"<outbox-{i}@{DOMAIN}>" for i in ids)
    assert set(counts.values()) == {1}, f"delivered more than once: {counts}"


def test_smtp_down_loses_nothing_and_delivers_once_when_back(db, smtp_server):
    ids = _queue(db, 3)
    smtp_server.stop()  # the mail server is down
    with db() as session:
        assert delivery.deliver_due(session, _channel(smtp_server.url)) == 3
    assert _states(db, ids) == {"queued": 3}
    with db() as session:
        waiting = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).all()
        assert all(m.attempts == 1 and m.next_attempt_at > utcnow() and m.last_error for m in waiting)
        assert delivery.deliver_due(session, _channel(smtp_server.url)) == 0, "nothing is due before the retry delay"

    smtp_server.start_again()
    _make_due_again(db, ids)
    with db() as session:
        delivery.deliver_due(session, _channel(smtp_server.url))
    assert _states(db, ids) == {"sent": 3}
    _assert_each_received_once(smtp_server, ids)


def test_after_the_last_attempt_a_message_fails_with_its_reason(db, smtp_server):
    [message_id] = _queue(db, 1)
    smtp_server.handler.refuse_with = "451 4.3.0 Try again later"
    for _ in range(delivery.MAX_ATTEMPTS):
        _make_due_again(db, [message_id])
        with db() as session:
            delivery.deliver_due(session, _channel(smtp_server.url))
    with db() as session:
        message = session.get(OutboxMessage, message_id)
        assert message.state == "failed"
        assert message.attempts == delivery.MAX_ATTEMPTS
        assert "451" in message.last_error

        smtp_server.handler.refuse_with = None
        delivery.retry(session, message)
        session.commit()
        delivery.deliver_due(session, _channel(smtp_server.url))
    assert _states(db, [message_id]) == {"sent": 1}


def test_a_worker_killed_in_the_middle_of_a_batch_still_delivers_every_message_once(db, database_url, smtp_server):
    ids = _queue(db, 5)
    smtp_server.handler.stall_at_recipient = 3  # the worker hangs in the middle of the third message
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": TEST_SETTINGS["SECRET_KEY"],
        "PORTAL_SMTP_URL": smtp_server.url,
        "PORTAL_SMTP_FROM": f"noreply@{DOMAIN}",
    }
    env.pop("PORTAL_CELERY_BROKER_URL", None)
    worker = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "flask", "--app", "portal", "jobs", "run-due"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert smtp_server.handler.stalled.wait(60), "the worker never reached the third message"
        worker.kill()
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
        smtp_server.handler.release.set()
    assert len(smtp_server.received) == 2
    assert _states(db, ids) == {"sent": 2, "sending": 3}  # the batch was claimed; the worker died holding it

    _make_due_again(db, ids)  # the dead worker's lease runs out
    with db() as session:
        delivery.deliver_due(session, _channel(smtp_server.url))
    assert _states(db, ids) == {"sent": 5}
    _assert_each_received_once(smtp_server, ids)


def test_two_workers_at_the_same_time_never_deliver_a_message_twice(db, smtp_server):
    ids = _queue(db, 40)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work() -> None:
        try:
            start.wait()
            with db() as session:
                delivery.deliver_due(session, _channel(smtp_server.url), limit=5)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert not errors, errors
    assert _states(db, ids) == {"sent": 40}
    _assert_each_received_once(smtp_server, ids)


def test_a_claim_whose_lease_ran_out_is_not_sent(db, smtp_server):
    [message_id] = _queue(db, 1)
    with db() as session:
        [claimed] = delivery.claim(session, message_id=message_id, lease=timedelta(seconds=-1))
        assert delivery.deliver_claimed(session, claimed, _channel(smtp_server.url)) == "lease expired"
    assert smtp_server.received == []
    with db() as session:
        delivery.deliver_due(session, _channel(smtp_server.url))
    _assert_each_received_once(smtp_server, [message_id])


class _TlsBreakingServer:
    """Answers like a mail server and offers STARTTLS, then breaks the TLS handshake (a bad certificate, a
    middlebox): the server is there and answers the probe, only the sending fails."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with connection, connection.makefile("rb") as lines:
                connection.sendall(b"220 mail.example ESMTP\r\n")
                for line in lines:
                    command = line.strip().upper()
                    if command.startswith((b"EHLO", b"HELO")):
                        connection.sendall(b"250-mail.example\r\n250 STARTTLS\r\n")
                    elif command == b"STARTTLS":
                        connection.sendall(b"220 Go ahead\r\nthis is not TLS at all\r\n")
                        break
                    elif command == b"QUIT":
                        connection.sendall(b"221 Bye\r\n")
                        break
                    else:
                        connection.sendall(b"502 Not here\r\n")

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.listener.close()


@pytest.fixture()
def tls_breaking_server() -> Iterator[_TlsBreakingServer]:
    server = _TlsBreakingServer()
    yield server
    server.stop()


def test_a_conversation_that_breaks_after_connecting_is_retried_with_the_normal_delay(db, tls_breaking_server):
    """Only a server that does not answer waits for the probe; one that answers and then fails (here: the TLS
    handshake) must not be made due again by every run, which would use up all attempts within minutes."""
    [message_id] = _queue(db, 1)
    channel = _channel(f"smtp://127.0.0.1:{tls_breaking_server.port}")
    with db() as session:
        assert delivery.deliver_due(session, channel) == 1
        message = session.get(OutboxMessage, message_id)
        assert message.state == "queued" and message.attempts == 1
        # The handshake fails as a TLS error, or as a reset when the server has already hung up: both after connecting.
        assert message.last_error.startswith(("SSL", "ConnectionResetError"))
        assert not message.waiting_for_transport
        retry_at = message.next_attempt_at
        assert retry_at > utcnow() + delivery.RETRY_DELAYS[0] - timedelta(seconds=30)

        assert channel.reachable(), "the server does answer"
        assert delivery.when_back(session, channel) == 0
        assert delivery.deliver_due(session, channel) == 0, "the next run does not try again before the delay"
        session.refresh(message)
        assert (message.state, message.attempts, message.next_attempt_at) == ("queued", 1, retry_at)


def test_an_attachment_reaches_the_mail_server_as_a_file_beside_the_text(db, smtp_server):
    from portal.notifications.models import OutboxAttachment

    pdf = b"%PDF-1.7 agreement"
    with db() as session:
        message = OutboxMessage(
            recipient=f"debtor@{DOMAIN}",
            template="test",
            language="nl",
            subject="Je betalingsregeling",
            body_text="De afspraak zit in de bijlage.",
            body_html="<p>De afspraak zit in de bijlage.</p>",
            attachments=[
                OutboxAttachment(filename="payment-plan-R000007.pdf", content_type="application/pdf", content=pdf)
            ],
        )
        session.add(message)
        session.commit()
    with db() as session:  # a worker of its own, as in production
        assert delivery.deliver_due(session, _channel(smtp_server.url)) == 1
    assert _states(db, [message.id]) == {"sent": 1}
    (received,) = smtp_server.handler.received
    (attached,) = list(received.iter_attachments())
    assert attached.get_filename() == "payment-plan-R000007.pdf" and attached.get_content_type() == "application/pdf"
    assert attached.get_content() == pdf
    assert received.get_body(("plain",)).get_content().strip() == "De afspraak zit in de bijlage."


def test_every_message_carries_the_date_it_was_sent_and_a_down_server_is_logged_as_a_warning(db, smtp_server, caplog):
    ids = _queue(db, 1)
    smtp_server.stop()
    with caplog.at_level("WARNING", logger="portal.notifications.delivery"), db() as session:
        delivery.deliver_due(session, _channel(smtp_server.url))
    assert [r.levelname for r in caplog.records if "temporary failure" in r.getMessage()] == ["WARNING"]

    smtp_server.start_again()
    _make_due_again(db, ids)
    sent_at = utcnow().replace(microsecond=0) + timedelta(minutes=5)
    with time_machine.travel(sent_at, tick=False), db() as session:
        delivery.deliver_due(session, _channel(smtp_server.url))
    [received] = smtp_server.received
    assert parsedate_to_datetime(str(received["Date"])) == sent_at
