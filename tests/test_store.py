import io
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from mlops_jlab.errors import ConfigurationError
from mlops_jlab.store import ArtifactStore, Database
from mlops_jlab.store.migrations import HEAD


def test_sqlite_is_wal_with_busy_timeout_and_migrated(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path}/m.db")
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 30_000
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    assert {"runs", "metrics", "latest_metrics", "params", "tags", "experiments",
            "artifacts", "datasets", "run_datasets"} <= set(db.table_names())
    Database(f"sqlite:///{tmp_path}/m.db")  # re-opening is a no-op migration


def test_write_transactions_take_the_lock_up_front(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path}/m.db")
    order: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    def first():
        with db.write() as conn:
            conn.execute(text("SELECT 1"))
            order.append("first-in")
            inside.set()
            release.wait(5)
            order.append("first-out")

    def second():
        inside.wait(5)
        with db.write():  # BEGIN IMMEDIATE waits here, not at the first write
            order.append("second-in")

    t1, t2 = threading.Thread(target=first), threading.Thread(target=second)
    t1.start()
    t2.start()
    inside.wait(5)
    t2.join(0.3)
    assert order == ["first-in"], "second writer must wait for the lock"
    release.set()
    t1.join()
    t2.join()
    assert order == ["first-in", "first-out", "second-in"]


def test_bad_database_url_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="cannot parse"):
        Database("not a url")


def test_artifacts_are_content_addressed_and_deduplicated(tmp_path: Path):
    store = ArtifactStore(str(tmp_path / "a"))
    blob = store.put_bytes(b"hello")
    again = store.put_bytes(b"hello")
    assert blob == again
    assert blob.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert store.read_bytes(blob.sha256) == b"hello"
    assert store.verify(blob.sha256)
    assert len(list((tmp_path / "a" / "sha256").rglob("*"))) == 2  # one folder, one file


def test_a_crash_mid_write_leaves_no_file_under_a_real_name(tmp_path: Path):
    store = ArtifactStore(str(tmp_path / "a"))

    class Exploding(io.RawIOBase):
        def __init__(self):
            self.calls = 0

        def read(self, n=-1):
            self.calls += 1
            if self.calls > 2:
                raise OSError("disk vanished")
            return b"x" * 1024

    with pytest.raises(OSError):
        store.put_stream(Exploding())
    assert not [p for p in (tmp_path / "a" / "sha256").rglob("*") if p.is_file()]
    assert not list((tmp_path / "a" / "tmp").iterdir())


def test_tampered_blob_fails_verification(tmp_path: Path):
    store = ArtifactStore(str(tmp_path / "a"))
    blob = store.put_bytes(b"model bytes")
    Path(store.blob_path(blob.sha256)).write_bytes(b"evil")
    assert not store.verify(blob.sha256)
