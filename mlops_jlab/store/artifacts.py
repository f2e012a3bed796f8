"""Content-addressed artifact storage through fsspec.

A blob lives at ``<root>/sha256/<aa>/<rest of the hex digest>``. Writers stream to a
temporary name under ``<root>/tmp/`` while hashing, then rename into place, so a crash
never leaves a partial file under a real name, and identical content is stored once.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import fsspec
from fsspec.core import url_to_fs

from ..errors import ConfigurationError, NotFound

CHUNK = 1 << 20


@dataclass(frozen=True)
class Blob:
    """A stored blob: digest and size in bytes."""

    sha256: str
    size: int


#: fsspec protocols whose files live in one process's memory (other processes, such as
#: serving workers, cannot read them)
PROCESS_LOCAL = frozenset({"memory"})


class ArtifactStore:
    """Blobs addressed by sha256 under a local folder or any fsspec URL (s3://, gs://, ...)."""

    def __init__(self, root: str, **storage_options: Any) -> None:
        self.root_url = root
        try:
            self.fs, path = url_to_fs(root, **storage_options)
        except Exception as exc:  # unknown protocol, missing driver
            raise ConfigurationError(f"cannot open artifact store {root!r}: {exc}") from exc
        self.root = path.rstrip("/")
        self.fs.makedirs(f"{self.root}/tmp", exist_ok=True)
        self.fs.makedirs(f"{self.root}/sha256", exist_ok=True)

    @property
    def process_local(self) -> bool:
        """True when only this process can read the blobs (``memory://``)."""
        protocols = self.fs.protocol if isinstance(self.fs.protocol, (tuple, list)) \
            else (self.fs.protocol,)
        return any(p in PROCESS_LOCAL for p in protocols)

    def blob_path(self, sha256: str) -> str:
        """Where the blob with this digest lives in the filesystem."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise NotFound(f"not a sha256 digest: {sha256!r}")
        return f"{self.root}/sha256/{sha256[:2]}/{sha256[2:]}"

    def put_stream(self, stream: IO[bytes]) -> Blob:
        """Store everything read from ``stream``; returns its digest and size."""
        tmp = f"{self.root}/tmp/{uuid.uuid4().hex}"
        digest = hashlib.sha256()
        size = 0
        try:
            with self.fs.open(tmp, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            sha = digest.hexdigest()
            final = self.blob_path(sha)
            if self.fs.exists(final):
                self.fs.rm(tmp)
            else:
                self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
                self.fs.mv(tmp, final)
        except BaseException:
            if self.fs.exists(tmp):
                self.fs.rm(tmp)
            raise
        return Blob(sha, size)

    def put_bytes(self, data: bytes) -> Blob:
        """Store ``data``; returns its digest and size."""
        import io

        return self.put_stream(io.BytesIO(data))

    def put_file(self, local_path: str | os.PathLike[str]) -> Blob:
        """Store a local file's content."""
        with open(local_path, "rb") as f:
            return self.put_stream(f)

    def exists(self, sha256: str) -> bool:
        """True when a blob with this digest is stored."""
        return bool(self.fs.exists(self.blob_path(sha256)))

    def open(self, sha256: str) -> IO[bytes]:
        """Open a stored blob for reading."""
        path = self.blob_path(sha256)
        if not self.fs.exists(path):
            raise NotFound(f"artifact blob {sha256} is missing from {self.root_url}")
        return self.fs.open(path, "rb")

    def read_bytes(self, sha256: str) -> bytes:
        """The whole content of a stored blob."""
        with self.open(sha256) as f:
            return f.read()

    def iter_chunks(self, sha256: str) -> Iterator[bytes]:
        """Stream a blob in chunks (for HTTP downloads)."""
        with self.open(sha256) as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def verify(self, sha256: str) -> bool:
        """Re-hash a blob and say whether it still matches its address."""
        digest = hashlib.sha256()
        for chunk in self.iter_chunks(sha256):
            digest.update(chunk)
        return digest.hexdigest() == sha256


def open_artifact_store(url: str) -> ArtifactStore:
    """Open the artifact store at a local path or fsspec URL."""
    if "://" not in url:
        os.makedirs(url, exist_ok=True)
    return ArtifactStore(url)


__all__ = ["ArtifactStore", "Blob", "fsspec", "open_artifact_store"]
