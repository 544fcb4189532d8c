"""The keys that encrypt staff TOTP secrets at rest (``PORTAL_TOTP_KEYS``).

A TOTP secret is as good as the second factor itself, so the database holds it only encrypted, with keys
of their own: a copy of the database (a backup, a read replica) or of ``PORTAL_SECRET_KEY`` alone is not
enough to produce codes. The variable is a comma-separated list of Fernet keys; the first encrypts, all
decrypt, so a key is rotated by putting a new one in front and running ``flask staff rotate-totp-key``.

Without the variable a development set-up derives a key from ``PORTAL_SECRET_KEY`` (and says so); a
deployment served over https must set it explicitly.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app
from flask.sansio.app import App

from portal.config import ConfigError

log = logging.getLogger(__name__)

APP_KEY = "portal_totp_keys"
_DERIVATION_INFO = b"portal staff totp secrets v1"


class TotpKeyError(RuntimeError):
    """A stored secret opens with none of the configured keys (a wrong or missing PORTAL_TOTP_KEYS)."""


@dataclass(frozen=True)
class TotpKeyring:
    fernet: MultiFernet
    derived: bool  # True: the development key derived from PORTAL_SECRET_KEY

    def encrypt(self, secret: str) -> str:
        return self.fernet.encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self.fernet.decrypt(token.encode()).decode()
        except InvalidToken as error:
            raise TotpKeyError("a TOTP secret opens with none of the keys in PORTAL_TOTP_KEYS") from error

    def rotate(self, token: str) -> str:
        """The same secret, encrypted with the first key."""
        try:
            return self.fernet.rotate(token.encode()).decode()
        except InvalidToken as error:
            raise TotpKeyError("a TOTP secret opens with none of the keys in PORTAL_TOTP_KEYS") from error


def keyring_from_config(config: Mapping[str, Any]) -> TotpKeyring:
    """The keyring the configuration describes; ConfigError names the problem when there is none."""
    raw = str(config.get("TOTP_KEYS") or "").strip()
    if raw:
        keys = []
        for position, key in enumerate((part.strip() for part in raw.split(",")), start=1):
            try:
                keys.append(Fernet(key))
            except (ValueError, TypeError) as error:
                raise ConfigError(
                    "The portal cannot start:\n  - PORTAL_TOTP_KEYS must be a comma-separated list of Fernet keys "
                    f"(44 characters each; make one with `flask --app portal staff new-totp-key`): key {position} "
                    "is not one."
                ) from error
        return TotpKeyring(MultiFernet(keys), derived=False)
    if str(config.get("BASE_URL", "")).startswith("https://"):
        raise ConfigError(
            "The portal cannot start:\n  - PORTAL_TOTP_KEYS is required when the portal is served over https: "
            "it encrypts the staff's second-factor secrets (make a key with "
            "`flask --app portal staff new-totp-key`)."
        )
    log.warning(
        "PORTAL_TOTP_KEYS is not set: staff TOTP secrets are encrypted with a key derived from "
        "PORTAL_SECRET_KEY. Fine for development; a deployment sets PORTAL_TOTP_KEYS."
    )
    return TotpKeyring(MultiFernet([Fernet(_derive_from(str(config["SECRET_KEY"])))]), derived=True)


def _derive_from(secret_key: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DERIVATION_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(key)


def new_key() -> str:
    return Fernet.generate_key().decode()


def init_app(app: Flask | App) -> None:
    """Read the keys once at start-up, so a wrong PORTAL_TOTP_KEYS stops the portal before anyone logs in."""
    app.extensions[APP_KEY] = keyring_from_config(app.config)


def current_keyring() -> TotpKeyring:
    keyring: TotpKeyring = current_app.extensions[APP_KEY]
    return keyring
