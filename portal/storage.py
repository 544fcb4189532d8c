"""Placeholder until the file-store module lands (feat/files): a local-disk store with random keys."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Protocol


class StoredFileMissing(Exception):
    pass


class FileStore(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


class LocalDiskStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> str:
        key = secrets.token_urlsafe(32)
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / key).write_bytes(data)
        return key

    def get(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            raise StoredFileMissing(key) from None

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)


def current_file_store() -> FileStore:
    from flask import current_app

    return LocalDiskStore(Path(current_app.instance_path) / "files")
