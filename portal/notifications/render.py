"""Rendering a message from templates/emails/<name>.{subject.txt,txt,html} in the recipient's language.

Rendering happens when the message is queued, inside the transaction that causes it, with undefined
variables as errors: a broken template fails the change loudly instead of sending a broken message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from jinja2 import Environment, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.i18n import force_locale
from portal.settings.services import creditor_details


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


def _environment() -> Environment:
    env = current_app.extensions.get("portal_mail_env")
    if env is None:
        env = current_app.jinja_env.overlay(undefined=StrictUndefined, autoescape=select_autoescape(["html"]))
        current_app.extensions["portal_mail_env"] = env
    return env


def render_message(
    template: str, language: str, context: dict[str, Any], *, session: Session | None = None
) -> RenderedMessage:
    """``creditor`` in the templates is the creditor as set now, read through ``session`` (the caller's)."""
    env = _environment()
    full_context = {"creditor": creditor_details(session or db.session), **context}
    with force_locale(language):
        subject = env.get_template(f"emails/{template}.subject.txt").render(full_context)
        text = env.get_template(f"emails/{template}.txt").render(full_context)
        html = env.get_template(f"emails/{template}.html").render(full_context)
    return RenderedMessage(subject=" ".join(subject.split()), text=text.strip() + "\n", html=html)
