"""Provider webhooks: check, look up the payment, re-fetch it, apply. One path for every provider.

Answers: 200 when handled or not ours (the provider should stop), 400 for a bad signature or body,
503 when the provider could not be asked for the status (the provider retries later).
"""

from __future__ import annotations

import logging
import math
import time

from flask import Blueprint, Response, abort, current_app, request
from flask_limiter import RateLimitExceeded, RequestLimit

from portal.audit.services import Actor
from portal.extensions import csrf, db, limiter
from portal.payments import refunds, services, webhooks
from portal.providers.base import InvalidWebhook, ProviderRejected, ProviderUnavailable
from portal.providers.registry import get_provider

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)


def _webhook_rate_limit() -> str:
    return str(current_app.config["WEBHOOK_RATE_LIMIT"])


def _too_many(limit: RequestLimit) -> Response:
    # Providers back off and retry on 429; Retry-After says when this address may send again.
    retry_after = max(math.ceil(limit.reset_at - time.time()), 1)
    response = Response("too many requests\n", status=429, mimetype="text/plain")
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(error: RateLimitExceeded) -> Response:
    # The breach's own answer (with Retry-After), not the site's HTML page for people.
    return error.get_response()  # type: ignore[return-value]


@bp.post("/webhooks/<provider_name>")
@csrf.exempt
# Per address: a provider sends from a few addresses, generously allowed; a flood from one address is cut off
# before it reaches the database or the provider.
@limiter.limit(_webhook_rate_limit, scope="webhooks", on_breach=_too_many)
def receive(provider_name: str) -> Response:
    try:
        provider = get_provider(provider_name)
    except KeyError:
        abort(404)
    body = request.get_data(cache=False)  # the raw bytes: a signature is over exactly these
    actor = Actor(type="system", id=f"{provider_name}-webhook")
    try:
        # A plain mapping, as the providers take (they match header names case-insensitively themselves).
        headers = dict(request.headers.items())
        target = webhooks.resolve_webhook(db.session, provider, body, headers)
        # Nothing is written yet: end the read, so no lock (SQLite's is database-wide) waits on the provider.
        db.session.commit()
        payment = None
        if target is not None:
            payment = webhooks.sync_webhook_target(db.session, provider, target, actor=actor)
            db.session.commit()
            if payment.refund_pending_key == services.paid_twice_refund_key(payment.id):
                # Committed above: a refund for invoices paid twice goes out now (reconciliation retries it).
                refunds.send_paid_twice_refund(db.session, provider, payment.id, actor=actor)
                db.session.commit()
    except InvalidWebhook:
        db.session.rollback()
        log.warning("%s webhook refused: invalid signature or body", provider_name)
        return Response("invalid webhook\n", status=400, mimetype="text/plain")
    except ProviderUnavailable:
        db.session.rollback()
        log.warning("%s webhook: the provider could not be asked for the status; it will retry", provider_name)
        return Response("try again later\n", status=503, mimetype="text/plain")
    except ProviderRejected:
        # Retrying will not change the provider's answer (a revoked key, an id it does not know).
        db.session.rollback()
        log.error("%s webhook: the provider refused the status request", provider_name)
        return Response("ok\n", status=200, mimetype="text/plain")
    if payment is not None:
        log.info("%s webhook: payment %s is %s", provider_name, payment.id, payment.state)
    return Response("ok\n", status=200, mimetype="text/plain")
