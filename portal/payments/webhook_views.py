"""Provider webhooks: check, look up the payment, re-fetch it, apply. One path for every provider.

Answers: 200 when handled or not ours (the provider should stop), 400 for a bad signature or body,
503 when the provider could not be asked for the status (the provider retries later).
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, request
from werkzeug.wrappers import Response

from portal.audit.services import Actor
from portal.extensions import csrf, db
from portal.payments import webhooks
from portal.providers.base import InvalidWebhook, ProviderRejected, ProviderUnavailable
from portal.providers.registry import get_provider

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/<provider_name>")
@csrf.exempt
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
