"""Channels deliver one rendered message. E-mail goes over SMTP; SMS and paper letters plug in here later.

A channel raises TemporaryFailure when trying again later may work (server down, greylisting) and
PermanentFailure when it will not (the address is refused). Unreachable is the temporary failure of a server
that did not answer at all: such messages wait for ``reachable()`` to say it answers again, not for the end
of their retry delay.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

from portal import clock
from portal.notifications.models import OutboxMessage

SMTP_TIMEOUT_SECONDS = 20
# A probe only asks whether the server answers; it must not hold up the scheduler for long when it does not.
PROBE_TIMEOUT_SECONDS = 5


class TemporaryFailure(Exception):
    pass


class Unreachable(TemporaryFailure):
    """The server could not be reached (refused, timed out, unknown host): nothing about the message itself."""


class PermanentFailure(Exception):
    pass


class Channel(Protocol):
    def send(self, message: OutboxMessage) -> None: ...

    def reachable(self) -> bool:
        """Whether the server answers now (without sending anything)."""
        ...


def message_id(message: OutboxMessage, domain: str) -> str:
    """Stable per outbox row, so that a message that is somehow handed over twice is recognisable as one."""
    return f"<outbox-{message.id}@{domain}>"


class SmtpChannel:
    """smtp://user:pass@host:587 uses STARTTLS when the server offers it; smtps://host:465 is TLS from the start."""

    def __init__(self, url: str, sender_name: str, sender_address: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("PORTAL_SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = formataddr((sender_name, sender_address))
        self.domain = sender_address.rpartition("@")[2] or "portal.invalid"

    def build(self, message: OutboxMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        # smtplib adds no Date, and mail without one is marked as spam or dated on arrival by the reader's server.
        email["Date"] = format_datetime(clock.now(), usegmt=True)
        email["Message-ID"] = message_id(message, self.domain) if message.id else make_msgid(domain=self.domain)
        email["Content-Language"] = message.language
        email.set_content(message.body_text)
        email.add_alternative(message.body_html, subtype="html")
        for attachment in message.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            email.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
        return email

    def _connect(self, timeout: float) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=ssl.create_default_context())
        return smtplib.SMTP(self.host, self.port, timeout=timeout)

    def reachable(self) -> bool:
        try:
            with self._connect(PROBE_TIMEOUT_SECONDS) as client:
                code, _ = client.ehlo()
        except OSError:  # smtplib's errors are OSErrors too
            return False
        return 200 <= code < 300

    def send(self, message: OutboxMessage) -> None:
        email = self.build(message)
        connected = False
        try:
            client = self._connect(SMTP_TIMEOUT_SECONDS)
            connected = True
            with client:
                client.ehlo()
                if not self.implicit_tls and client.has_extn("starttls"):
                    client.starttls(context=ssl.create_default_context())
                    client.ehlo()
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            raise PermanentFailure(f"recipient refused: {error.recipients}") from error
        except smtplib.SMTPResponseException as error:
            failure = PermanentFailure if 500 <= error.smtp_code < 600 else TemporaryFailure
            raise failure(f"SMTP {error.smtp_code}: {error.smtp_error!r}") from error
        except smtplib.SMTPException as error:
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from error
        except OSError as error:
            if not connected:  # refused, timed out, no such host: the server did not answer
                raise Unreachable(f"{type(error).__name__}: {error}") from error
            # The server answered but the conversation broke (TLS refused, reset during AUTH, timeout in DATA):
            # the probe would say it answers at once, so this waits for the growing retry delay instead.
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from error
