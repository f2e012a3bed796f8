"""Which types a model file may contain. The list lives here, in our code, never in the
model's own manifest; callers can extend it explicitly per load."""

from __future__ import annotations

from collections.abc import Iterable

# Types skops reports as "untrusted" that scikit-learn models are made of. Anything under
# these prefixes must also really be a class defined in that package (checked on load).
TRUSTED_PREFIXES = ("sklearn.",)
TRUSTED_TYPES = frozenset({
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.random.mtrand.RandomState",
    "numpy.random._mt19937.MT19937",
    "scipy.sparse._csr.csr_matrix",
    "scipy.sparse._csc.csc_matrix",
    "builtins.slice",
    "collections.OrderedDict",
    "collections.defaultdict",
})


def _is_class_of_package(type_name: str) -> bool:
    """True when ``type_name`` names a class importable from its trusted package."""
    import importlib

    module_name, _, attr = type_name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception:
        return False
    obj = getattr(module, attr, None)
    return isinstance(obj, type) and obj.__module__.startswith(TRUSTED_PREFIXES)


def split_untrusted(type_names: Iterable[str],
                    extra_trusted: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """Partition the types skops flagged into (trusted by policy, untrusted)."""
    extra = set(extra_trusted)
    trusted, untrusted = [], []
    for name in type_names:
        if name in extra or name in TRUSTED_TYPES or (
                name.startswith(TRUSTED_PREFIXES) and _is_class_of_package(name)):
            trusted.append(name)
        else:
            untrusted.append(name)
    return trusted, untrusted
