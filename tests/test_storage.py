"""Uploaded files kept under random keys: on the local disk, or in an S3-compatible store (moto's server)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from flask import Flask
from moto.server import ThreadedMotoServer

from portal.config import INSTANCE_DIR, PROJECT_ROOT, ConfigError, load_config
from portal.storage import (
    FileStore,
    LocalDiskStore,
    S3Store,
    StoredFileMissing,
    current_file_store,
    file_store,
)

SETTINGS = {"SECRET_KEY": "x" * 40, "BASE_URL": "http://localhost"}
BUCKET = "dispute-files"


def _round_trip(store: FileStore) -> None:
    first = store.put(b"%PDF-1.4 first")
    second = store.put(b"\x89PNG second")
    assert first != second
    assert store.get(first) == b"%PDF-1.4 first"
    assert store.get(second) == b"\x89PNG second"

    store.delete(first)
    with pytest.raises(StoredFileMissing):
        store.get(first)
    assert store.get(second) == b"\x89PNG second"
    store.delete(first)  # deleting what is gone is fine


# ------------------------------------------------------------------ local disk


def test_the_local_store_keeps_files_under_random_keys(tmp_path: Path) -> None:
    _round_trip(LocalDiskStore(tmp_path))


def test_a_local_key_is_random_and_never_a_path(tmp_path: Path) -> None:
    store = LocalDiskStore(tmp_path)
    keys = {store.put(b"same") for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert 32 <= len(key) <= 64
        assert (tmp_path / key[:2] / key).read_bytes() == b"same"


def test_a_stored_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    store = LocalDiskStore(tmp_path / "files")
    key = store.put(b"secret")
    path = tmp_path / "files" / key[:2] / key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [key]  # no temporary file left behind


@pytest.mark.parametrize(
    "key", ["../x", "../" * 12 + "etc/passwd", "a" * 31, "a" * 65, "/" + "a" * 40, "a" * 40 + "\x00", ""]
)
def test_a_key_that_is_not_ours_reads_nothing(tmp_path: Path, key: str) -> None:
    (tmp_path / "x").write_bytes(b"outside")
    root = tmp_path / "a" / "files"
    root.mkdir(parents=True)
    store = LocalDiskStore(root)  # "../x" would be root/../../x: the file above
    with pytest.raises(StoredFileMissing):
        store.get(key)
    store.delete(key)
    assert (tmp_path / "x").read_bytes() == b"outside"


def test_an_unknown_key_is_missing(tmp_path: Path) -> None:
    with pytest.raises(StoredFileMissing):
        LocalDiskStore(tmp_path).get("A" * 43)


# ------------------------------------------------------------------ an S3-compatible store


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture()
def s3_config(s3_endpoint: str) -> dict[str, str]:
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="portal-test",
        aws_secret_access_key="portal-test-secret",
    )
    client.create_bucket(Bucket=BUCKET)
    yield {
        "FILE_STORE": "s3",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "portal-test",
        "S3_SECRET_ACCESS_KEY": "portal-test-secret",
        "S3_PREFIX": "disputes",
    }
    objects = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for item in objects:
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _s3_store(config: dict[str, str]) -> S3Store:
    return S3Store(
        config["S3_BUCKET"],
        endpoint_url=config["S3_ENDPOINT_URL"],
        region=config["S3_REGION"],
        access_key_id=config["S3_ACCESS_KEY_ID"],
        secret_access_key=config["S3_SECRET_ACCESS_KEY"],
        prefix=config["S3_PREFIX"],
    )


def test_the_s3_store_keeps_files_in_the_bucket(s3_config: dict[str, str]) -> None:
    _round_trip(_s3_store(s3_config))


def test_s3_objects_are_named_by_the_prefix_and_the_random_key(s3_config: dict[str, str]) -> None:
    store = _s3_store(s3_config)
    key = store.put(b"photo")
    names = [item["Key"] for item in store.client.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert names == [f"disputes/{key}"]


def test_an_unknown_or_foreign_s3_key_is_missing(s3_config: dict[str, str]) -> None:
    store = _s3_store(s3_config)
    with pytest.raises(StoredFileMissing):
        store.get("B" * 43)
    with pytest.raises(StoredFileMissing):
        store.get("../other-bucket/x")


# ------------------------------------------------------------------ from the configuration


def test_the_configuration_chooses_the_store(s3_config: dict[str, str], tmp_path: Path) -> None:
    local = file_store(load_config({**SETTINGS, "FILES_DIR": str(tmp_path)}))
    assert isinstance(local, LocalDiskStore) and local.root == tmp_path

    default = file_store(load_config(SETTINGS))
    assert isinstance(default, LocalDiskStore) and default.root == INSTANCE_DIR / "files"

    s3 = file_store(load_config({**SETTINGS, **s3_config}))
    assert isinstance(s3, S3Store)
    key = s3.put(b"through the config")
    assert _s3_store(s3_config).get(key) == b"through the config"


def test_the_portal_refuses_to_start_with_s3_and_no_bucket() -> None:
    with pytest.raises(ConfigError) as refused:
        load_config({**SETTINGS, "FILE_STORE": "s3", "S3_ENDPOINT_URL": "minio:9000", "S3_ACCESS_KEY_ID": "k"})
    message = str(refused.value)
    assert "PORTAL_S3_BUCKET is required with PORTAL_FILE_STORE=s3" in message
    assert "PORTAL_S3_ENDPOINT_URL must be an http(s) URL" in message
    assert "PORTAL_S3_ACCESS_KEY_ID and PORTAL_S3_SECRET_ACCESS_KEY are set together" in message


def test_the_portal_refuses_an_unknown_store_or_files_under_static() -> None:
    with pytest.raises(ConfigError) as refused:
        load_config({**SETTINGS, "FILE_STORE": "ftp"})
    assert "PORTAL_FILE_STORE must be local" in str(refused.value)
    with pytest.raises(ConfigError) as refused:
        load_config({**SETTINGS, "FILES_DIR": str(PROJECT_ROOT / "static" / "uploads")})
    assert "PORTAL_FILES_DIR must not be under static/" in str(refused.value)


def test_the_store_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PORTAL_FILES_DIR", str(tmp_path))
    store = file_store(load_config(SETTINGS))
    assert isinstance(store, LocalDiskStore) and store.root == tmp_path


def test_views_share_one_store_per_app(app: Flask) -> None:
    with app.app_context():
        assert current_file_store() is current_file_store()
