"""Read a model folder back: verify every file's sha256, then deserialize safely.

skops files are checked for types outside the trusted list (:mod:`.trust`) before
anything is constructed; pickle/joblib files load only when the caller opts in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import InvalidInput, UntrustedModel
from ..store.paths import folder_files, unsafe_reason
from .folder import MANIFEST
from .loaded import LoadedModel
from .structure import check_structure
from .trust import split_untrusted

PICKLE_SERIALIZERS = ("pickle", "joblib")
"""Serializers that can run code when loaded: a version saved with one is unsafe."""
SAFE_SERIALIZERS = ("skops",)
"""Serializers whose loading the trusted-type check governs."""


def _verified(read: Callable[[str], bytes], path: str, sha: str) -> bytes:
    data = read(sha)
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha:
        raise UntrustedModel(f"model file {path!r} fails its sha256 check "
                             f"(expected {sha[:12]}…, got {actual[:12]}…): refusing to load")
    return data


def check_model_paths(paths: Iterable[object]) -> None:
    """Refuse a model whose file names could leave its folder when written out (``..``,
    absolute, control characters): they come from the store, which may have been edited."""
    for path in paths:
        reason = unsafe_reason(path)
        if reason:
            raise UntrustedModel(f"model file path {path!r} is unsafe ({reason}): "
                                 "refusing to use this model")


def load_verified(read_blob: Callable[[str], bytes], files: Mapping[str, str], *,
                  uri: str | None = None, trusted_types: Iterable[str] = (),
                  allow_pickle: bool = False) -> LoadedModel:
    """Load a model from content-addressed files ``{relative path: sha256}``."""
    if MANIFEST not in files:
        raise UntrustedModel(f"{uri or 'model'} has no {MANIFEST}")
    check_model_paths(files)
    manifest = json.loads(_verified(read_blob, MANIFEST, files[MANIFEST]))
    declared = manifest.get("files") or {}
    if not isinstance(declared, dict):
        raise UntrustedModel(f"{uri or 'model'}: the manifest's files is not an object")
    check_model_paths(declared)
    for path, sha in declared.items():
        if files.get(path) != sha:
            raise UntrustedModel(
                f"model file {path!r} does not match the hash its manifest declares")
    serializer = manifest.get("serializer")
    model_file = manifest.get("model_file")
    if not model_file or model_file not in declared:
        raise UntrustedModel(f"manifest names no hashed model file ({model_file!r})")
    data = _verified(read_blob, model_file, declared[model_file])
    if serializer == "skops":
        import skops.io as sio

        flagged = sio.get_untrusted_types(data=data)
        trusted, untrusted = split_untrusted(flagged, trusted_types)
        if untrusted:
            raise UntrustedModel(
                f"{uri or 'model'} contains types outside the trusted list: "
                f"{', '.join(sorted(untrusted))}. If you trust them, pass "
                f"trusted_types={sorted(untrusted)!r}", untrusted_types=sorted(untrusted))
        model = sio.loads(data, trusted=trusted)
        check_structure(model, uri)  # trusted types, but crafted indices
    elif serializer in PICKLE_SERIALIZERS:
        if not allow_pickle:
            raise UntrustedModel(
                f"{uri or 'model'} was saved with {serializer}, which can run arbitrary "
                "code when loaded; pass allow_pickle=True only if you trust its author")
        import pickle

        model = pickle.loads(data)
    else:
        raise UntrustedModel(f"unknown serializer {serializer!r}")
    return LoadedModel(model, manifest, uri)


def load_folder(folder: str, **kwargs: Any) -> LoadedModel:
    """Load a model folder from local disk (hashes verified the same way; a symbolic
    link out of the folder is refused, never read)."""
    try:
        entries = folder_files(folder)
    except InvalidInput as exc:
        raise UntrustedModel(exc.message) from None
    files: dict[str, str] = {}
    blobs: dict[str, bytes] = {}
    for full, rel in entries:
        with open(full, "rb") as f:
            data = f.read()
        sha = hashlib.sha256(data).hexdigest()
        files[rel], blobs[sha] = sha, data
    return load_verified(blobs.__getitem__, files, uri=folder, **kwargs)
