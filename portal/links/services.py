"""Personal links: create, resolve and revoke. Tokens are 256-bit secrets; only their hash is kept."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal import clock
from portal.audit.services import Actor, record
from portal.customers.models import Customer
from portal.events import emit
from portal.links import events as link_events
from portal.links.models import PortalLink
from portal.notifications.models import OutboxMessage
from portal.notifications.services import queue_email

# token_urlsafe(32) gives 43 characters of [A-Za-z0-9_-]: 256 random bits.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
# A link a debtor asked for on the "link does not work" page (PortalLink.created_by), and its e-mail.
FRESH_LINK_CREATED_BY = "debtor-request"
FRESH_LINK_TEMPLATE = "fresh_link"
FRESH_LINK_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class IssuedLink:
    link: PortalLink
    token: str  # shown once, never stored

    def url(self, base_url: str) -> str:
        return f"{base_url}/p/{self.token}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(
    session: Session, customer: Customer, *, ttl_days: int, created_by: str, actor: Actor, now: datetime | None = None
) -> IssuedLink:
    """Issue a new personal link for ``customer``; the returned token is the only copy there is."""
    now = now or clock.now()
    token = secrets.token_urlsafe(32)
    link = PortalLink(
        customer_id=customer.id,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=ttl_days),
        created_by=created_by,
    )
    session.add(link)
    session.flush()
    record(session, actor, "link.created", customer_id=customer.id, subject=("link", link.id), created_by=created_by)
    emit(session, link_events.about(link_events.CREATED, link, actor, created_by=created_by))
    return IssuedLink(link=link, token=token)


def open_link(session: Session, token: str, *, actor: Actor, now: datetime | None = None) -> PortalLink | None:
    """Return the usable link behind ``token`` and note its use, or None for anything else.

    Unknown, malformed, expired and revoked tokens all give None, so the caller cannot tell
    (and cannot show) which of them it was.
    """
    now = now or clock.now()
    link = None
    if TOKEN_PATTERN.fullmatch(token):
        link = session.scalars(select(PortalLink).where(PortalLink.token_hash == hash_token(token))).one_or_none()
    if link is None or not link.is_usable(now):
        reason = "unknown" if link is None else ("revoked" if link.revoked_at else "expired")
        record(
            session,
            actor,
            "link.rejected",
            customer_id=link.customer_id if link else None,
            subject=("link", link.id) if link else None,
            reason=reason,
        )
        if link is not None:
            # The customer's story shows a refused link (they may need a fresh one); an unknown token has none.
            emit(session, link_events.about(link_events.REFUSED, link, actor, reason=reason))
        return None
    link.last_used_at = now
    record(session, actor, "link.opened", customer_id=link.customer_id, subject=("link", link.id))
    return link


def revoke_link(session: Session, link: PortalLink, *, actor: Actor, now: datetime | None = None) -> bool:
    """Stop ``link`` from working. True when this call revoked it; False when it already was revoked, also by
    another request at the same moment, and then nothing is recorded."""
    now = now or clock.now()
    # A conditional UPDATE rather than a look at ``link.revoked_at``: two requests that both loaded the live link
    # would both pass that look and record the revocation twice. The database lets one UPDATE match; the other
    # waits for that row and, once it is committed, finds it revoked and matches nothing.
    result = session.execute(
        update(PortalLink)
        .where(PortalLink.id == link.id, PortalLink.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        session.refresh(link, ["revoked_at"])  # the caller tells "already revoked" from the row, not a stale copy
        return False
    set_committed_value(link, "revoked_at", now)  # the row says so already: no second UPDATE at the flush
    record(session, actor, "link.revoked", customer_id=link.customer_id, subject=("link", link.id))
    emit(session, link_events.about(link_events.REVOKED, link, actor))
    return True


def find_customer_for_fresh_link(session: Session, email: str) -> Customer | None:
    """The customer a fresh link may go to: only one whose address on file matches exactly one record."""
    normalised = email.strip().lower()
    if not normalised:
        return None
    matches = session.scalars(select(Customer).where(func.lower(Customer.email) == normalised).limit(2)).all()
    return matches[0] if len(matches) == 1 else None


def fresh_links_sent(session: Session, customer: Customer, *, since: datetime) -> int:
    """How many fresh-link e-mails went to ``customer`` since ``since`` (queued counts: it will be sent)."""
    return (
        session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.customer_id == customer.id,
                OutboxMessage.template == FRESH_LINK_TEMPLATE,
                OutboxMessage.created_at >= since,
            )
        )
        or 0
    )


def request_fresh_link(
    session: Session,
    email: str,
    *,
    ttl_days: int,
    base_url: str,
    per_day: int,
    actor: Actor,
    now: datetime | None = None,
) -> IssuedLink | None:
    """A visitor asks for a new link to be e-mailed. The caller must answer the same whatever happens.

    Returns the issued link when the address belongs to exactly one customer who has had fewer than
    ``per_day`` fresh links in the last 24 hours; the message that carries it is written in the same
    transaction. The customer's earlier fresh links stop working (the newest e-mail is the one to use);
    links from reminders and from staff keep working.
    """
    now = now or clock.now()
    customer = find_customer_for_fresh_link(session, email)
    if customer is None:
        record(session, actor, "link.requested", matched=False)
        return None
    # One request at a time per customer, so two at once cannot both pass the count below.
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    if fresh_links_sent(session, customer, since=now - FRESH_LINK_WINDOW) >= per_day:
        record(session, actor, "link.requested", customer_id=customer.id, matched=True, limited=True)
        return None
    earlier = session.scalars(
        select(PortalLink).where(
            PortalLink.customer_id == customer.id,
            PortalLink.created_by == FRESH_LINK_CREATED_BY,
            PortalLink.revoked_at.is_(None),
            PortalLink.expires_at > now,
        )
    ).all()
    issued = create_link(session, customer, ttl_days=ttl_days, created_by=FRESH_LINK_CREATED_BY, actor=actor, now=now)
    for link in earlier:
        revoke_link(session, link, actor=actor, now=now)
    record(session, actor, "link.requested", customer_id=customer.id, subject=("link", issued.link.id), matched=True)
    emit(session, link_events.about(link_events.REQUESTED, issued.link, actor))
    email_link(
        session, customer, issued, template=FRESH_LINK_TEMPLATE, base_url=base_url, actor=actor, replaced=bool(earlier)
    )
    return issued


def send_new_link(
    session: Session, customer: Customer, *, ttl_days: int, base_url: str, created_by: str, actor: Actor
) -> IssuedLink | None:
    """Staff send a customer a new link by e-mail; None when there is no e-mail address on file."""
    if not customer.email:
        return None
    issued = create_link(session, customer, ttl_days=ttl_days, created_by=created_by, actor=actor)
    email_link(session, customer, issued, template="portal_link", base_url=base_url, actor=actor)
    return issued


def email_link(
    session: Session,
    customer: Customer,
    issued: IssuedLink,
    *,
    template: str,
    base_url: str,
    actor: Actor,
    replaced: bool = False,
) -> OutboxMessage | None:
    """Queue an e-mail carrying the link; the token is blanked from the stored copy once it is delivered."""
    if not customer.email:
        return None
    url = issued.url(base_url)
    return queue_email(
        session,
        to=customer.email,
        template=template,
        language=customer.language,
        context={
            "customer_name": customer.name,
            "link_url": url,
            "expires_on": issued.link.expires_at,
            # The links this one replaces stop working: the message says so.
            "replaced": replaced,
        },
        actor=actor,
        customer_id=customer.id,
        secrets=(url,),
    )
