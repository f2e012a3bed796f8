"""Write a model as a folder: the serialized model plus ``manifest.json``.

The manifest names the flavor and serializer, the model class, the signature, an
input example, the versions of the packages the model's classes come from, and the
sha256 of every file, so a loader can verify what it reads. scikit-learn models are
written with skops (no pickle).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from .signature import infer_signature, input_example

MANIFEST = "manifest.json"


def _component_modules(model: Any) -> set[str]:
    """Top-level modules of the model's class and of every estimator nested in it."""
    tops = {type(model).__module__.split(".")[0]}
    try:
        params = model.get_params(deep=True)
    except Exception:
        params = {}
    for value in params.values():
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            obj = item[1] if isinstance(item, tuple) and len(item) > 1 else item
            if hasattr(obj, "fit") or callable(obj):
                module = getattr(obj, "__module__", None) or type(obj).__module__
                tops.add(module.split(".")[0])
    return tops - {"builtins", "__main__"}


def _requirements(model: Any) -> dict[str, str]:
    """Versions of the distributions providing the model's modules (no environment scan:
    a direct version look-up per module, the package index only as a fallback)."""
    from ..tracking.environment import distributions_of

    tops = _component_modules(model) | {"numpy"}
    out: dict[str, str] = {}
    for top in sorted(tops):
        for dist in distributions_of(top):
            try:
                out[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_model_folder(model: Any, folder: str | Path, X_example: Any = None, *,
                      serializer: str = "skops", allow_pickle: bool = False) -> dict[str, Any]:
    """Save a scikit-learn-compatible model into ``folder``; returns the manifest.

    ``serializer="skops"`` (default) is safe to load; ``"pickle"`` needs
    ``allow_pickle=True`` here and again when loading, and is recorded as unsafe.
    """
    import skops.io as sio

    if not hasattr(model, "predict"):
        raise InvalidInput(f"{type(model).__name__} has no predict(): not a model")
    if serializer not in ("skops", "pickle"):
        raise InvalidInput(f"serializer must be 'skops' or 'pickle', got {serializer!r}")
    if serializer == "pickle" and not allow_pickle:
        raise InvalidInput("pickle files run code when loaded: pass allow_pickle=True to opt in")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    model_file = "model.skops" if serializer == "skops" else "model.pkl"
    if serializer == "skops":
        sio.dump(model, out / model_file)
    else:
        import pickle

        (out / model_file).write_bytes(pickle.dumps(model, protocol=5))
    y_pred = None
    if X_example is not None:
        try:
            y_pred = model.predict(X_example[:5] if not hasattr(X_example, "iloc")
                                   else X_example.iloc[:5])
        except Exception:
            y_pred = None
    signature = infer_signature(X_example, y_pred) if X_example is not None else None
    manifest: dict[str, Any] = {
        "format": 1,
        "flavor": "sklearn",
        "serializer": serializer,
        "unsafe_serializer": serializer != "skops",
        "model_file": model_file,
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
        "signature": signature.to_dict() if signature else None,
        "input_example": input_example(X_example) if X_example is not None else None,
        "python": ".".join(map(str, sys.version_info[:3])),
        "requirements": _requirements(model),
        "created_at": int(time.time() * 1000),
        "files": {model_file: _sha256(out / model_file)},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
    return manifest
