"""What a training cell did: estimators it fitted (with their training data's schema)
and scalar variables it assigned.

Fits are seen two ways. scikit-learn (>= 1.3) runs every public ``fit`` through a
wrapper that calls ``estimator._validate_params()`` first (nested fits skip it), so
wrapping that method for the duration of the cell records top-level fits in order,
with the ``X`` they were given. Estimators that bypass it (third-party
scikit-learn-API models) are caught afterwards by comparing the fitted state of the
estimators in the namespace before and after the cell.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

SCALARS = (int, float, str, bool)
MAX_SCALAR_TEXT = 250


@dataclass
class Fit:
    """One estimator fitted in the cell and (when seen) the data it was fitted on."""

    estimator: Any
    X: Any = None
    variable: str | None = None


@dataclass
class CellCapture:
    """Everything captured while a cell ran."""

    fits: list[Fit] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)

    def fitted(self) -> list[Fit]:
        """Fits whose estimator ended up fitted, in the order they happened."""
        return [f for f in self.fits if is_fitted(f.estimator)]


def is_estimator(obj: Any) -> bool:
    """True for scikit-learn estimators (and objects that quack like one)."""
    try:
        from sklearn.base import BaseEstimator
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, BaseEstimator) and not isinstance(obj, type)


def is_fitted(est: Any) -> bool:
    """scikit-learn's own notion of fitted."""
    try:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(est)
        return True
    except Exception:
        return False


def _fit_state(est: Any) -> tuple[tuple[str, int], ...]:
    try:
        items = vars(est).items()
    except TypeError:
        return ()
    return tuple(sorted((k, id(v)) for k, v in items if k.endswith("_") and not
                        k.startswith("__")))


def _scalar_snapshot(ns: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ns.items()
            if not k.startswith("_") and type(v) in SCALARS and
            not (isinstance(v, str) and len(v) > MAX_SCALAR_TEXT)}


def _inside_another_fit(wrapper_frame: Any) -> bool:
    """True when a fit wrapper further up the stack is fitting an outer estimator."""
    outer = wrapper_frame.f_back
    while outer is not None:
        if outer.f_code is wrapper_frame.f_code:
            return True
        outer = outer.f_back
    return False


def _nested_in(est: Any, others: list[Fit]) -> bool:
    """True when ``est`` is a component (pipeline step, base estimator) of another fit."""
    for fit in others:
        if fit.estimator is est:
            continue
        try:
            values = fit.estimator.get_params(deep=True).values()
        except Exception:
            continue
        if any(v is est for v in values):
            return True
    return False


@contextmanager
def capture_cell(namespace: dict[str, Any]) -> Iterator[CellCapture]:
    """Record fits and assigned scalars while the body (the cell) runs."""
    result = CellCapture()
    before_estimators = {name: (id(obj), _fit_state(obj)) for name, obj in namespace.items()
                         if not name.startswith("_") and is_estimator(obj)}
    before_scalars = _scalar_snapshot(namespace)
    recorded: list[Fit] = []
    base = None
    original = None
    try:
        from sklearn.base import BaseEstimator

        base = BaseEstimator
        original = BaseEstimator.__dict__.get("_validate_params")
    except ImportError:  # pragma: no cover
        pass

    if base is not None and original is not None:
        def _validate_params(self: Any) -> Any:
            frame = sys._getframe(1)
            if "fit_method" in frame.f_locals and not _inside_another_fit(frame):
                args = frame.f_locals.get("args") or ()
                kwargs = frame.f_locals.get("kwargs") or {}
                X = args[0] if args else kwargs.get("X")
                recorded.append(Fit(self, X))
            return original(self)

        base._validate_params = _validate_params  # type: ignore[method-assign]
    try:
        yield result
    finally:
        if base is not None and original is not None:
            base._validate_params = original  # type: ignore[method-assign]
        names_by_id = {id(obj): name for name, obj in namespace.items()
                       if not name.startswith("_") and is_estimator(obj)}
        seen: set[int] = set()
        for fit in recorded:
            fit.variable = names_by_id.get(id(fit.estimator))
            if id(fit.estimator) in seen:
                # refitted: keep the last fit's position and data
                result.fits = [f for f in result.fits if f.estimator is not fit.estimator]
            seen.add(id(fit.estimator))
            result.fits.append(fit)
        unseen: list[Fit] = []
        for name, obj in namespace.items():
            if name.startswith("_") or not is_estimator(obj) or id(obj) in seen:
                continue
            old = before_estimators.get(name)
            if (old is None or old != (id(obj), _fit_state(obj))) and is_fitted(obj):
                unseen.append(Fit(obj, None, name))
                seen.add(id(obj))
        # fits seen only afterwards have no known order: put them before the recorded
        # ones, and drop those that are parts of another fitted estimator
        everything = unseen + result.fits
        result.fits = [f for f in unseen if not _nested_in(f.estimator, everything)] + \
            result.fits
        after = _scalar_snapshot(namespace)
        result.variables = {k: v for k, v in after.items()
                            if k not in before_scalars or before_scalars[k] != v or
                            type(before_scalars[k]) is not type(v)}
