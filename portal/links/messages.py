"""A message to a customer that carries a fresh personal link: the one way every feature's e-mails link back.

The link is a secret of its message (blanked from the stored copy once delivered, hidden from staff who may not
create links), and its lifetime is the deployment's LINK_TTL_DAYS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.links.services import create_link
from portal.notifications.models import OutboxMessage
from portal.notifications.services import Attachment, queue_email


def opening(path: str) -> Callable[[str], str]:
    """``link=`` for a message whose link opens ``path`` (a page of the debtor's own) instead of the overview."""
    return lambda url: f"{url}?{urlencode({'next': path})}"


def queue_email_with_link(
    session: Session,
    customer: Customer,
    template: str,
    context: dict[str, Any],
    *,
    actor: Actor,
    created_by: str | None = None,
    link: Callable[[str], str] | None = None,
    language: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> OutboxMessage | None:
    """Queue ``template`` for ``customer`` in their language (or ``language``), with ``customer_name`` and a
    fresh ``link_url`` in its context (``link`` may add to the address, e.g. a query). None when they have no
    e-mail address."""
    if not customer.email:
        return None
    config = current_app.config
    issued = create_link(
        session, customer, ttl_days=config["LINK_TTL_DAYS"], created_by=created_by or template, actor=actor
    )
    url = issued.url(config["BASE_URL"])
    return queue_email(
        session,
        to=customer.email,
        template=template,
        language=language or customer.language,
        context={"customer_name": customer.name, "link_url": link(url) if link else url, **context},
        actor=actor,
        customer_id=customer.id,
        secrets=(url,),
        attachments=attachments,
    )
