"""Where uploaded files are kept: a local folder outside the web root, or an S3-compatible bucket.

A stored file is known only by a random key the store makes (``put``); the database keeps that key beside
the file's checked name and type (portal/disputes/uploads.py). A key never comes from a filename, so a
name can neither choose where a file lands nor guess where another one is.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from flask import current_app

from portal.config import INSTANCE_DIR

# What put() hands out (secrets.token_urlsafe(32): 43 characters, 256 random bits). Anything else is not
# one of ours: checked before a key becomes a path or an object name, so "../x" can go nowhere.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,64}")
_EXTENSION_KEY = "portal_file_store"


class StoredFileMissing(Exception):
    """No file is stored under this key (never stored, deleted, or not a key we hand out)."""


class FileStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store ``data`` under a new random key and return the key."""
        ...

    def get(self, key: str) -> bytes:
        """The file stored under ``key``; :class:`StoredFileMissing` if there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the file stored under ``key``; a key with no file is fine."""
        ...


def new_key() -> str:
    return secrets.token_urlsafe(32)


def is_valid_key(key: str) -> bool:
    return isinstance(key, str) and KEY_PATTERN.fullmatch(key) is not None


class LocalDiskStore:
    """Files in a folder of their own (never under static/, so the web server cannot hand them out).

    Each file sits in a subfolder named after its key's first two characters, so no one folder grows to
    hundreds of thousands of entries. A file is written to a temporary file beside it and then renamed, so a
    reader never sees half a file, also after a crash.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not is_valid_key(key):
            raise StoredFileMissing(key)
        return self.root / key[:2] / key

    def put(self, data: bytes) -> str:
        key = new_key()
        path = self._path(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file readable and writable by its owner only (0o600): another account on the
        # server cannot read a debtor's documents.
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StoredFileMissing(key) from None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except StoredFileMissing:
            return  # not a key we hand out, so nothing was ever stored under it


class S3Store:
    """Files as objects in a bucket of any S3-compatible store (AWS S3, MinIO, Ceph, ...).

    Without an access key boto3 finds credentials itself (environment, an instance role), as on AWS.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "",
    ) -> None:
        import boto3  # type: ignore[import-untyped]  # boto3 ships no types
        from botocore.config import Config  # type: ignore[import-untyped]

        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        settings = Config(
            signature_version="s3v4",
            # Stores other than AWS (MinIO, Ceph) are usually reached at one address with the bucket in the
            # path, not as a subdomain.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            # Newer boto3 adds CRC checksums to every upload by default, which several S3-compatible stores
            # refuse; they are sent only where S3 itself requires them.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
        )
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=settings,
        )

    def _name(self, key: str) -> str:
        if not is_valid_key(key):
            raise StoredFileMissing(key)
        return self.prefix + key

    def put(self, data: bytes) -> str:
        key = new_key()
        # Stored as plain bytes: the checked type lives in the database, and the bucket never serves the
        # file to a browser itself.
        self.client.put_object(
            Bucket=self.bucket, Key=self._name(key), Body=data, ContentType="application/octet-stream"
        )
        return key

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise StoredFileMissing(key) from None
            raise
        body: bytes = answer["Body"].read()
        return body

    def delete(self, key: str) -> None:
        try:
            name = self._name(key)
        except StoredFileMissing:
            return
        # S3 answers a delete of a missing object with success, so deleting twice is fine.
        self.client.delete_object(Bucket=self.bucket, Key=name)


def files_dir(config: Mapping[str, Any]) -> Path:
    """The folder of the local store: PORTAL_FILES_DIR, or instance/files (outside the web root)."""
    configured = config.get("FILES_DIR")
    return Path(configured) if configured else INSTANCE_DIR / "files"


def file_store(config: Mapping[str, Any]) -> FileStore:
    """The store the configuration names (checked at start-up by portal/config.py)."""
    if config.get("FILE_STORE", "local") == "s3":
        return S3Store(
            str(config["S3_BUCKET"]),
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION"),
            access_key_id=config.get("S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
            prefix=str(config.get("S3_PREFIX") or ""),
        )
    return LocalDiskStore(files_dir(config))


def current_file_store() -> FileStore:
    """The running app's store, made once per app (a boto3 client is costly to build and safe to share)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    store: FileStore | None = app.extensions.get(_EXTENSION_KEY)
    if store is None:
        store = file_store(app.config)
        app.extensions[_EXTENSION_KEY] = store
    return store
