"""The Settings page in the staff area (administrators), its change history, and ``creditor`` in every page."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from babel import numbers
from flask import Blueprint, Flask, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.wrappers import Response

from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _, current_locale
from portal.settings import queries, registry, services
from portal.settings.dispute_forms import DisputesForm, disputes_form_shown
from portal.settings.forms import ContactHoursForm, CreditorForm, DebitsForm, SettingsForm, payments_form
from portal.settings.plan_forms import PlansForm, plans_form_shown
from portal.settings.registry import CONTACT_HOURS_KEY, CREDITOR_PREFIX, PAID_TWICE_KEY, PARTIAL_MINIMUM_KEY
from portal.settings.validators import days_text
from portal.staff.auth import staff_actor
from portal.staff.permissions import Permission, requires

log = logging.getLogger(__name__)
bp = Blueprint("staff_settings", __name__, url_prefix="/staff/settings")


def _amount_text(cents: int | None) -> str:
    """Cents as the administrator would type them ("10,00" in Dutch), without grouping the parser refuses."""
    if cents is None:
        return ""
    return numbers.format_decimal(Decimal(cents).scaleb(-2), format="0.00", locale=current_locale())


def _currencies(minimums: Mapping[str, Any]) -> list[str]:
    # EUR always, and every currency that has (or had) a minimum set, e.g. from the command line.
    return sorted({"EUR", *minimums})


def _forms() -> dict[str, SettingsForm]:
    """Each section's form, filled with the values in force now and carrying their versions."""
    values = services.current_settings(db.session)
    versions = {key: found.version for key, found in services.versions_in_force(db.session).items()}
    creditor = CreditorForm(
        formdata=None, data={key.removeprefix(CREDITOR_PREFIX): value for key, value in values.items()}
    )
    minimums = values[PARTIAL_MINIMUM_KEY]
    payments = payments_form(
        _currencies(minimums),
        formdata=None,
        data={
            **{f"minimum_{currency}": _amount_text(minimums.get(currency)) for currency in _currencies(minimums)},
            "paid_twice": values[PAID_TWICE_KEY],
        },
    )
    contact = ContactHoursForm(formdata=None, data=values[CONTACT_HOURS_KEY])
    debits = DebitsForm.shown(values)
    plans = plans_form_shown(values, _amount_text)
    forms: dict[str, SettingsForm] = {
        "creditor": creditor,
        "payments": payments,
        "contact": contact,
        "debits": debits,
        "plans": plans,
        "disputes": disputes_form_shown(values, _amount_text),
    }
    for form in forms.values():
        form.show_versions(versions)
    return forms


def _page(*, status: int = 200, **submitted: SettingsForm) -> Response:
    """The page; a section just submitted (``creditor=form``) shows what was typed, with its problems."""
    forms = {**_forms(), **submitted}
    html = render_template(
        "staff/settings/index.html",
        creditor_form=forms["creditor"],
        payments_form=forms["payments"],
        contact_form=forms["contact"],
        debits_form=forms["debits"],
        plans_form=forms["plans"],
        disputes_form=forms["disputes"],
        contact_setting=registry.get(CONTACT_HOURS_KEY),
        sections=registry.SECTIONS,
    )
    return make_response(html, status)


def _save(section: str, form: SettingsForm) -> Response:
    """Write the form's changes, commit once, and go back to the page (or show it again with the problems)."""
    try:
        changed = services.set_settings(
            db.session, form.changes(), actor=staff_actor(), expected_versions=form.expected_versions()
        )
        db.session.commit()
    except services.InvalidSettings as invalid:
        # The form runs the same validators, so this is a value that changed meaning in between.
        db.session.rollback()
        form.form_errors.extend(problem.message for problem in invalid.problems.values())
        return _page(status=400, **{section: form})
    except services.SettingsConflict as conflict:
        # Someone saved these keys after this page was drawn: show what applies now, not this form's old values.
        db.session.rollback()
        current = _forms()[section]
        current.form_errors.append(message_for(conflict))
        return _page(status=409, **{section: current})
    except IntegrityError:
        # Two administrators passed the version check at the same instant and took the same version number;
        # the unique constraint let one win. The page shows what applies now.
        db.session.rollback()
        flash(_("Someone else saved these settings at the same moment. Check them and save again."), "error")
        return redirect(url_for(".index"))
    flash(_("Your changes have been saved.") if changed else _("Nothing was changed."), "info")
    return redirect(url_for(".index"))


@bp.get("/")
@requires(Permission.MANAGE_SETTINGS)
def index() -> Response:
    return _page()


@bp.post("/creditor")
@requires(Permission.MANAGE_SETTINGS)
def save_creditor() -> Response:
    form = CreditorForm()
    if not form.validate_on_submit():
        return _page(creditor=form, status=400)
    return _save("creditor", form)


@bp.post("/payments")
@requires(Permission.MANAGE_SETTINGS)
def save_payments() -> Response:
    form = payments_form(_currencies(services.get_setting(db.session, PARTIAL_MINIMUM_KEY)))
    if not form.validate_on_submit():
        return _page(payments=form, status=400)
    return _save("payments", form)


@bp.post("/contact")
@requires(Permission.MANAGE_SETTINGS)
def save_contact() -> Response:
    form = ContactHoursForm()
    if not form.validate_on_submit():
        return _page(contact=form, status=400)
    return _save("contact", form)


@bp.post("/debits")
@requires(Permission.MANAGE_SETTINGS)
def save_debits() -> Response:
    form = DebitsForm()
    if not form.validate_on_submit():
        return _page(debits=form, status=400)
    return _save("debits", form)


@bp.post("/plans")
@requires(Permission.MANAGE_SETTINGS)
def save_plans() -> Response:
    form = PlansForm()
    if not form.validate_on_submit():
        return _page(plans=form, status=400)
    return _save("plans", form)


@bp.post("/disputes")
@requires(Permission.MANAGE_SETTINGS)
def save_disputes() -> Response:
    form = DisputesForm()
    if not form.validate_on_submit():
        return _page(disputes=form, status=400)
    return _save("disputes", form)


@bp.get("/history")
@requires(Permission.MANAGE_SETTINGS)
def history() -> str:
    key = request.args.get("key") or None
    if key not in registry.SETTINGS:
        key = None
    return render_template(
        "staff/settings/history.html",
        versions=queries.list_versions(db.session, key),
        settings=registry.SETTINGS,
        chosen_key=key,
    )


class _PageCreditor(Mapping[str, str]):
    """``creditor`` in page templates: read on first use, so a page that never shows it costs no query."""

    def __init__(self) -> None:
        self._values: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._values is None:
            try:
                self._values = services.creditor_details(db.session)
            except SQLAlchemyError:
                # The error page of a request whose database is gone must still render: blanks, not a crash.
                log.warning("creditor details unavailable; page rendered without them", exc_info=True)
                db.session.rollback()
                keys = registry.keys_with_prefix(CREDITOR_PREFIX)
                self._values = {key.removeprefix(CREDITOR_PREFIX): "" for key in keys}
        return self._values

    def __getitem__(self, key: str) -> str:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def init_app(app: Flask) -> None:
    """Every page template sees ``creditor`` (name, phone, e-mail ...) as in force now."""
    app.add_template_global(days_text, "days_text")  # the history writes allowed debit days as typed: 1-28

    @app.context_processor
    def _creditor() -> dict[str, Any]:
        return {"creditor": _PageCreditor()}
