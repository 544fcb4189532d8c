"""The payment portal: create_app() wires configuration, extensions and blueprints - nothing else."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import PROJECT_ROOT, load_config
from portal.logs import install_redaction
from portal.templating import PortalEnvironment


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        "portal",
        root_path=str(PROJECT_ROOT / "portal"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.jinja_environment = PortalEnvironment  # before the environment is first made (templating.py)
    settings = load_config(config)
    app.config.update(settings)
    install_redaction(app)
    secure = settings["BASE_URL"].startswith("https://")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        SESSION_COOKIE_NAME="portal_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_SAMESITE="Lax",
        PREFERRED_URL_SCHEME="https" if secure else "http",
        WTF_CSRF_TIME_LIMIT=None,
        # Flask-WTF's HTTPS check needs a Referer, which Referrer-Policy: no-referrer never sends; the token
        # and SameSite cookies protect the forms.
        WTF_CSRF_SSL_STRICT=False,
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "translations"),
        BABEL_DEFAULT_LOCALE=settings["DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE=settings["DEFAULT_TIMEZONE"],
        RATELIMIT_STORAGE_URI=settings["RATELIMIT_STORAGE_URI"],
        RATELIMIT_HEADERS_ENABLED=False,
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
    )
    if settings["TRUSTED_PROXIES"]:
        n = settings["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    _init_extensions(app)
    _declare_event_kinds()
    _register_blueprints(app)

    from portal.cli import register_commands

    register_commands(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal.celery_app import init_celery
    from portal.debtor.visit_log import init_app as init_visit_log
    from portal.extensions import babel, csrf, db, htmx, limiter
    from portal.i18n import init_template_helpers, select_locale, select_timezone
    from portal.notifications.dispatch import init_dispatch
    from portal.payments.methods import init_app as init_payment_names
    from portal.scheduler import init_scheduler
    from portal.sessions import AreaSessionInterface
    from portal.settings.views import init_app as init_settings
    from portal.staff.auth import login_manager
    from portal.staff.navigation import init_navigation
    from portal.web import init_security

    app.session_interface = AreaSessionInterface()
    db.init_app(app)
    init_visit_log(app, app.extensions["portal_db_engine"])
    init_dispatch(app)
    init_celery(app)
    init_scheduler(app)
    login_manager.init_app(app)
    init_navigation(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    htmx.init_app(app)
    limiter.init_app(app)
    init_security(app)
    init_template_helpers(app)
    init_payment_names(app)
    init_settings(app)


def _declare_event_kinds() -> None:
    """Each feature declares its event kinds in its own events module; a worker or CLI process that never
    imports the feature's views must still know them (to emit them, and to show them on a timeline)."""
    import portal.customers.events

    # A dispute on a failed debit's invoice is the debtor's answer to that failure.
    import portal.debits.dispute_answers
    import portal.debits.events

    # What the other features' events mean for direct debit (a payment's outcome for its debit, a first payment
    # becoming a mandate), and why a failed debit pauses dunning: loaded with the kinds, in every process.
    import portal.debits.outcomes
    import portal.debits.pausing
    import portal.debits.switching
    import portal.debtor.events
    import portal.disputes.events

    # The debtor's e-mails about a dispute (received, answered, decided).
    import portal.disputes.messages

    # Why a disputed invoice pauses dunning (asked before every other reason), is not collected, and is held.
    import portal.disputes.pausing
    import portal.invoices.events
    import portal.links.events
    import portal.notifications.events
    import portal.payments.events

    # Plans and promises: their events, and why an invoice in a plan or promised by a date pauses dunning.
    import portal.plans.events
    import portal.plans.holds  # an invoice in a plan is collected by its instalments, not by the period's debit

    # A payment on a plan's or promise's invoices marks its instalments paid (and completes / keeps) at once.
    import portal.plans.lifecycle_reactions

    # The debtor's e-mails about a plan (agreed, proposal received, another plan offered, rejected) and a promise.
    import portal.plans.messages
    import portal.plans.pausing
    import portal.plans.promise_messages  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from portal.audit.views import bp as audit_bp
    from portal.customers.staff_views import bp as staff_customers_bp
    from portal.dashboard.views import bp as dashboard_bp
    from portal.debits.bank_views import bp as staff_debits_bank_bp
    from portal.debits.staff_views import bp as staff_debits_bp
    from portal.debits.switch_views import bp as debit_switch_bp
    from portal.debits.views import bp as debits_bp
    from portal.debtor.views import bp as debtor_bp
    from portal.disputes.resolve_views import bp as staff_dispute_outcomes_bp
    from portal.disputes.staff_views import bp as staff_disputes_bp
    from portal.disputes.views import bp as disputes_bp
    from portal.imports.views import bp as imports_bp
    from portal.links.views import bp as links_bp
    from portal.notifications.views import bp as messages_bp
    from portal.payments.demo_views import bp as demo_checkout_bp
    from portal.payments.staff_views import bp as staff_payments_bp
    from portal.payments.views import bp as payments_bp
    from portal.payments.webhook_views import bp as webhooks_bp
    from portal.plans.help_views import bp as debt_help_bp
    from portal.plans.pay_views import bp as plan_payments_bp
    from portal.plans.promise_views import bp as promises_bp

    # staff_lists adds the lists, callbacks and preview to staff_views' blueprint: one blueprint, two modules.
    from portal.plans.staff_lists import bp as staff_plans_bp
    from portal.plans.views import bp as plans_bp
    from portal.settings.views import bp as staff_settings_bp
    from portal.site.errors import register_error_pages
    from portal.site.views import bp as site_bp
    from portal.staff.admin_views import bp as staff_admin_bp
    from portal.staff.auth_views import bp as staff_auth_bp
    from portal.staff.views import bp as staff_bp

    app.register_blueprint(site_bp)
    for blueprint in (
        staff_bp,
        staff_auth_bp,
        dashboard_bp,
        staff_customers_bp,
        imports_bp,
        audit_bp,
        staff_admin_bp,
        messages_bp,
        staff_payments_bp,
        staff_settings_bp,
        staff_debits_bp,
        staff_debits_bank_bp,
        staff_plans_bp,
        staff_disputes_bp,
        staff_dispute_outcomes_bp,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(links_bp)
    app.register_blueprint(debtor_bp)
    app.register_blueprint(debit_switch_bp)
    app.register_blueprint(debits_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(demo_checkout_bp)
    # Plans and promises, the debtor's side (debt_help gives the templates has_endpoint(), more_time_offered()).
    for blueprint in (plan_payments_bp, promises_bp, debt_help_bp, disputes_bp):
        app.register_blueprint(blueprint)
    register_error_pages(app)
