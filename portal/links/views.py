"""The personal link: open it, or, when it no longer works, ask for a fresh one."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from portal.after_response import run_after_response
from portal.audit.services import Actor
from portal.debtor.access import bind_debtor, debtor_actor
from portal.extensions import db, limiter
from portal.links import services
from portal.links.forms import FreshLinkForm
from portal.links.sources import created_by_label
from portal.payments.views import remember_preferred_method
from portal.web import safe_next_path

bp = Blueprint("links", __name__)
bp.add_app_template_global(created_by_label, "link_created_by")


def _link_rate_limit() -> str:
    return str(current_app.config["LINK_RATE_LIMIT"])


@bp.get("/p/<path:token>")
@limiter.limit(_link_rate_limit, scope="link-lookup")
def open_link(token: str) -> Response:
    link = services.open_link(db.session, token, actor=debtor_actor())
    db.session.commit()
    if link is None:
        return redirect(url_for("links.problem"))
    bind_debtor(link)
    remember_preferred_method(request.args.get("method"))
    # Redirect to a token-free address so the token leaves the address bar, history and Referer: the overview,
    # or the page a message links to (?next=/plan/3), never another site.
    return redirect(safe_next_path(request.args.get("next"), url_for("debtor.overview")))


@bp.route("/link", methods=["GET", "POST"])
@limiter.limit(_link_rate_limit, scope="link-lookup", methods=["POST"])
def problem() -> str | Response:
    form = FreshLinkForm()
    if form.validate_on_submit():
        response = redirect(url_for("links.requested"))
        _issue_after_the_response(response, form.email.data or "", debtor_actor())
        return response
    return render_template("links/problem.html", form=form)


def _issue_after_the_response(response: Response, email: str, actor: Actor) -> None:
    """Look the address up, and maybe issue and e-mail a link, once the answer has gone out.

    The answer is the same redirect whether the address is known, unknown or past its daily limit, and it
    leaves before any of that work is done, so neither its content nor its timing tells them apart. The
    work commits in its own application context; the message is delivered after that commit, as always.
    """

    def issue() -> None:
        services.request_fresh_link(
            db.session,
            email,
            ttl_days=current_app.config["LINK_TTL_DAYS"],
            base_url=current_app.config["BASE_URL"],
            per_day=current_app.config["FRESH_LINKS_PER_DAY"],
            actor=actor,
        )

    run_after_response(response, issue, what="a fresh-link request")


@bp.get("/link/requested")
def requested() -> str:
    return render_template("links/requested.html")
