"""Configuration: defaults, then ``PORTAL_*`` environment variables, validated at start-up.

Every setting has a demo-friendly default so ``make run`` works with no variables at all. A
deployment sets at least ``PORTAL_DATABASE_URL``, ``PORTAL_SECRET_KEY`` and ``PORTAL_BASE_URL``.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
DEMO_DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'portal.sqlite3'}"

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": DEMO_DATABASE_URL,
    "SECRET_KEY": None,
    "BASE_URL": "http://127.0.0.1:5000",
    "LINK_TTL_DAYS": 90,
    # Flask-Limiter syntax; several limits separated by ";".
    "LINK_RATE_LIMIT": "30 per minute;300 per hour",
    # Fresh links e-mailed to one customer in 24 hours, whoever asks and from wherever; more requests send nothing.
    "FRESH_LINKS_PER_DAY": 3,
    "RATELIMIT_STORAGE_URI": "memory://",
    "DEFAULT_TIMEZONE": "Europe/Amsterdam",
    # Staff sessions end after this many minutes without a request.
    "STAFF_IDLE_MINUTES": 30,
    "STAFF_LOGIN_RATE_LIMIT": "20 per minute",
    # Per client address on /webhooks/<provider>: generous, as a provider sends bursts from few addresses.
    "WEBHOOK_RATE_LIMIT": "600 per minute",
    # Fernet keys (comma-separated; the first encrypts) for the staff TOTP secrets: portal/staff/totp_keys.py.
    "TOTP_KEYS": None,
    "DEFAULT_LOCALE": "nl",
    # Number of proxies in front of the app whose X-Forwarded-* headers we trust (0 = none).
    "TRUSTED_PROXIES": 0,
    # Outgoing e-mail. Without an SMTP server messages are kept in the outbox ("held") for staff to read.
    "SMTP_URL": None,
    # The sender address; empty: the creditor's e-mail address (a setting), read when a message is sent.
    "SMTP_FROM": None,
    # Background work. Without a broker it runs in the web process: right after the commit, and scheduled work
    # (due messages, reconciliation) in a thread the first request starts, unless SCHEDULER is "off" (cron).
    "CELERY_BROKER_URL": None,
    "SCHEDULER": "auto",
    # Payments. DEMO_PAYMENTS=auto: the demo provider takes payments in `make run`'s demo database when no
    # provider keys are set, and never elsewhere unless "on".
    "STRIPE_SECRET_KEY": None,
    "STRIPE_WEBHOOK_SECRET": None,
    "STRIPE_API_BASE": None,
    "MOLLIE_API_KEY": None,
    "MOLLIE_API_ENDPOINT": None,
    "DEMO_PAYMENTS": "auto",
    "PROVIDER_TIMEOUT_SECONDS": 10,
    # An https PORTAL_BASE_URL looks like production: it refuses the demo's shortcuts (a generated secret key,
    # SQLite, the demo payment provider by "auto") unless each is switched on by name.
    "ALLOW_GENERATED_SECRET": False,
    "ALLOW_SQLITE": False,
    # A debtor's page views (their access records and visit events) wait at most this long in the web
    # process and are then written many at once (portal/debtor/visit_log.py); 0: in the request itself.
    "PAGE_VIEW_FLUSH_SECONDS": 1,
    # Files debtors upload (portal/storage.py): "local", in FILES_DIR (empty: instance/files, outside the web
    # root), or "s3", in a bucket of any S3-compatible store (AWS, MinIO, Ceph). Without S3 keys boto3 finds
    # credentials itself (environment, instance role).
    "FILE_STORE": "local",
    "FILES_DIR": None,
    "S3_BUCKET": None,
    "S3_ENDPOINT_URL": None,
    "S3_REGION": None,
    "S3_ACCESS_KEY_ID": None,
    "S3_SECRET_ACCESS_KEY": None,
    "S3_PREFIX": "",
    # The creditor's details and every policy are versioned settings in the database (portal/settings/),
    # edited by administrators in the staff area or with `flask settings set`; not environment variables.
}

SUPPORTED_LOCALES = ("nl", "en")

# Variables read before the creditor's details and policies became versioned settings. `flask db upgrade`
# copies them into the settings once; after that they are ignored, and start-up says so.
FORMER_VARIABLES = (
    "PORTAL_CREDITOR_NAME",
    "PORTAL_CREDITOR_IBAN",
    "PORTAL_CREDITOR_BIC",
    "PORTAL_CREDITOR_IDENTIFIER",
    "PORTAL_CREDITOR_EMAIL",
    "PORTAL_CREDITOR_PHONE",
    "PORTAL_CREDITOR_ADDRESS",
    "PORTAL_CREDITOR_VAT_NUMBER",
    "PORTAL_PARTIAL_PAYMENT_MINIMUM",
)


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the validated configuration: defaults < environment (``PORTAL_*``) < overrides."""
    config = dict(DEFAULTS)
    for key in DEFAULTS:
        raw = os.environ.get(f"PORTAL_{key}")
        if raw is not None and raw != "":
            config[key] = raw
    config.update(overrides or {})
    _validate(config)
    ignored = [name for name in FORMER_VARIABLES if name in os.environ]
    if ignored:
        log.warning(
            "%s no longer read: the creditor's details and the part-payment minimum are settings now "
            "(copied by `flask db upgrade`, then changed under Settings in the staff area or with "
            "`flask settings set`). Remove the variables.",
            ", ".join(ignored),
        )
    return config


def _validate(config: dict[str, Any]) -> None:
    problems: list[str] = []

    url = str(config["DATABASE_URL"])
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not (url.startswith("sqlite:///") or url.startswith("postgresql+psycopg://")):
        problems.append("PORTAL_DATABASE_URL must start with sqlite:/// or postgresql:// (got something else).")
    config["DATABASE_URL"] = url

    base = urlsplit(str(config["BASE_URL"]))
    if base.scheme not in ("http", "https") or not base.netloc:
        problems.append("PORTAL_BASE_URL must be an absolute http(s) URL, e.g. https://pay.example.com.")
    config["BASE_URL"] = str(config["BASE_URL"]).rstrip("/")

    for key, minimum in (
        ("LINK_TTL_DAYS", 1),
        ("FRESH_LINKS_PER_DAY", 1),
        ("TRUSTED_PROXIES", 0),
        ("STAFF_IDLE_MINUTES", 1),
    ):
        try:
            config[key] = int(config[key])
            if config[key] < minimum:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(f"PORTAL_{key} must be a whole number of at least {minimum}.")

    try:
        ZoneInfo(str(config["DEFAULT_TIMEZONE"]))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append("PORTAL_DEFAULT_TIMEZONE must be an IANA time zone such as Europe/Amsterdam.")

    if config["DEFAULT_LOCALE"] not in SUPPORTED_LOCALES:
        problems.append(f"PORTAL_DEFAULT_LOCALE must be one of: {', '.join(SUPPORTED_LOCALES)}.")

    smtp = config["SMTP_URL"]
    if smtp and not (str(smtp).startswith(("smtp://", "smtps://")) and urlsplit(str(smtp)).hostname):
        problems.append("PORTAL_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465.")
    broker = config["CELERY_BROKER_URL"]
    if broker and not str(broker).startswith(("redis://", "rediss://", "amqp://", "amqps://")):
        problems.append("PORTAL_CELERY_BROKER_URL must be a redis:// or amqp:// URL.")
    if config["SCHEDULER"] not in ("auto", "off"):
        problems.append("PORTAL_SCHEDULER must be auto (run scheduled work in the web process) or off.")

    _validate_payments(config, problems)
    for key in ("ALLOW_GENERATED_SECRET", "ALLOW_SQLITE"):
        config[key] = _switch(config, key, problems)
    production = base.scheme == "https"
    if production:
        _refuse_demo_shortcuts(config, problems)
    _validate_page_views(config, problems)
    _validate_file_store(config, problems)

    if not config["SECRET_KEY"]:
        if config["DATABASE_URL"] == DEMO_DATABASE_URL and (not production or config["ALLOW_GENERATED_SECRET"]):
            config["SECRET_KEY"] = _demo_secret_key()
        elif production and config["DATABASE_URL"] == DEMO_DATABASE_URL:
            problems.append(
                "PORTAL_SECRET_KEY is required with an https PORTAL_BASE_URL (a long random string, the same in "
                "every process); set PORTAL_ALLOW_GENERATED_SECRET=1 to use the key generated into "
                "instance/secret_key instead."
            )
        else:
            problems.append("PORTAL_SECRET_KEY is required outside the demo (a long random string).")

    if problems:
        raise ConfigError("The portal cannot start:\n  - " + "\n  - ".join(problems))


def _switch(config: dict[str, Any], key: str, problems: list[str]) -> bool:
    value = config[key]
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    problems.append(f"PORTAL_{key} must be 1 (on) or 0 (off).")
    return False


def _refuse_demo_shortcuts(config: dict[str, Any], problems: list[str]) -> None:
    """An https address means real debtors: the demo's defaults must each be chosen on purpose there."""
    if config["DATABASE_URL"].startswith("sqlite") and not config["ALLOW_SQLITE"]:
        problems.append(
            "PORTAL_DATABASE_URL is SQLite, meant for the demo and development; with an https PORTAL_BASE_URL "
            "set a postgresql:// database, or PORTAL_ALLOW_SQLITE=1 to run on SQLite anyway."
        )
    # The one rule for which providers run (imported here: the registry itself reads this module's constants).
    from portal.providers.registry import configured_provider_names

    if config["DEMO_PAYMENTS"] == "auto" and "demo" in configured_provider_names(config):
        problems.append(
            "PORTAL_DEMO_PAYMENTS=auto would let debtors pay with the demo provider (no money moves); with an "
            "https PORTAL_BASE_URL set PORTAL_MOLLIE_API_KEY or PORTAL_STRIPE_SECRET_KEY, or PORTAL_DEMO_PAYMENTS=off, "
            "or PORTAL_DEMO_PAYMENTS=on to keep the demo provider on purpose."
        )
    elif config["DEMO_PAYMENTS"] == "on":
        log.warning("PORTAL_DEMO_PAYMENTS=on with an https PORTAL_BASE_URL: debtors can pay without money moving.")


def _validate_payments(config: dict[str, Any], problems: list[str]) -> None:
    if config["STRIPE_SECRET_KEY"] and not config["STRIPE_WEBHOOK_SECRET"]:
        problems.append("PORTAL_STRIPE_WEBHOOK_SECRET is required with PORTAL_STRIPE_SECRET_KEY (whsec_...).")
    mollie_key = config["MOLLIE_API_KEY"]
    if mollie_key and not str(mollie_key).startswith(("test_", "live_")):
        problems.append("PORTAL_MOLLIE_API_KEY must start with test_ or live_.")
    for key in ("STRIPE_API_BASE", "MOLLIE_API_ENDPOINT"):
        value = config[key]
        if value and urlsplit(str(value)).scheme not in ("http", "https"):
            problems.append(f"PORTAL_{key} must be an http(s) URL.")
    if config["DEMO_PAYMENTS"] not in ("auto", "on", "off"):
        problems.append("PORTAL_DEMO_PAYMENTS must be auto, on or off.")
    try:
        config["PROVIDER_TIMEOUT_SECONDS"] = float(config["PROVIDER_TIMEOUT_SECONDS"])
        if not 0 < config["PROVIDER_TIMEOUT_SECONDS"] <= 60:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("PORTAL_PROVIDER_TIMEOUT_SECONDS must be a number of seconds between 0 and 60.")


def _validate_page_views(config: dict[str, Any], problems: list[str]) -> None:
    try:
        config["PAGE_VIEW_FLUSH_SECONDS"] = float(config["PAGE_VIEW_FLUSH_SECONDS"])
        if not 0 <= config["PAGE_VIEW_FLUSH_SECONDS"] <= 60:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("PORTAL_PAGE_VIEW_FLUSH_SECONDS must be a number of seconds from 0 to 60.")


def _validate_file_store(config: dict[str, Any], problems: list[str]) -> None:
    kind = config["FILE_STORE"]
    if kind not in ("local", "s3"):
        problems.append("PORTAL_FILE_STORE must be local (a folder on this server) or s3 (an S3-compatible store).")
    if kind == "local" and config["FILES_DIR"]:
        folder = Path(str(config["FILES_DIR"])).resolve()
        if folder.is_relative_to(PROJECT_ROOT / "static"):
            problems.append("PORTAL_FILES_DIR must not be under static/: the web server would hand the files out.")
    if kind == "s3":
        if not config["S3_BUCKET"]:
            problems.append("PORTAL_S3_BUCKET is required with PORTAL_FILE_STORE=s3 (the bucket's name).")
        endpoint = urlsplit(str(config["S3_ENDPOINT_URL"] or ""))
        if config["S3_ENDPOINT_URL"] and (endpoint.scheme not in ("http", "https") or not endpoint.netloc):
            problems.append("PORTAL_S3_ENDPOINT_URL must be an http(s) URL, e.g. https://minio.internal:9000.")
        if bool(config["S3_ACCESS_KEY_ID"]) != bool(config["S3_SECRET_ACCESS_KEY"]):
            problems.append("PORTAL_S3_ACCESS_KEY_ID and PORTAL_S3_SECRET_ACCESS_KEY are set together, or neither.")


def _demo_secret_key() -> str:
    """Keep one random key per demo checkout, so sessions survive a restart of ``make run``."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
