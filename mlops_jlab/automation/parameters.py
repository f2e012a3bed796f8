"""A notebook's parameters: the defaults of its ``parameters``-tagged cell and the values
papermill injected, read from the notebook document."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

#: a ``set_experiment("name")`` or ``set_experiment(variable)`` call in a code cell
_SET_EXPERIMENT = re.compile(
    r"""set_experiment\(\s*(?:name\s*=\s*)?(?:(['"])([^'"\n]+)\1|([A-Za-z_]\w*))\s*\)""")
#: ``%%mlops_train --experiment name`` or ``--experiment $variable``
_MAGIC_EXPERIMENT = re.compile(r"^%%mlops_train\b.*?(?:--experiment|-e)[ =](\$?)([\w.-]+)",
                               re.MULTILINE)
#: what a notebook that uses mlops_jlab contains somewhere in its code
_USES = re.compile(r"mlops_jlab|%%?mlops_")


def _code_cells(nb: Any) -> list[Any]:
    return [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def uses_mlops(nb: Any) -> bool:
    """True when a code cell imports mlops_jlab or uses its magics."""
    return any(_USES.search(_source(c)) for c in _code_cells(nb))


def declared_experiment(nb: Any, params: Mapping[str, Any] | None = None) -> str | None:
    """The experiment the notebook names first, in a ``set_experiment(...)`` call or a
    ``%%mlops_train --experiment`` line: a literal, or a parameter (its value in
    ``params``); None when it names none."""
    values = params or {}
    for cell in _code_cells(nb):
        text = _source(cell)
        found = _SET_EXPERIMENT.search(text)
        if found:
            if found.group(2):
                return found.group(2)
            value = values.get(found.group(3))
            return value if isinstance(value, str) and value else None
        magic = _MAGIC_EXPERIMENT.search(text)
        if magic:
            if not magic.group(1):
                return magic.group(2)
            value = values.get(magic.group(2))
            return value if isinstance(value, str) and value else None
    return None


def default_parameters(nb: Any) -> dict[str, Any]:
    """Names assigned in the ``parameters``-tagged cell with their values: literals
    evaluated (``0.1``, ``'rf'``, ``[1, 2]``), anything else kept as its source text."""
    cell = next((c for c in _code_cells(nb)
                 if "parameters" in (c.get("metadata", {}).get("tags") or [])), None)
    if cell is None:
        return {}
    text = _source(cell)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}
    out: dict[str, Any] = {}
    for node in tree.body:
        targets: list[ast.expr]
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    out[target.id] = ast.literal_eval(value)
                except (ValueError, SyntaxError, TypeError):
                    out[target.id] = ast.get_source_segment(text, value)
    return out


def injected_parameters(nb: Any) -> dict[str, Any]:
    """The parameters papermill injected (from the notebook's papermill metadata)."""
    meta = nb.get("metadata", {}).get("papermill") or {}
    value = meta.get("parameters") or {}
    return dict(value) if isinstance(value, Mapping) else {}


def run_params(nb: Any) -> dict[str, Any]:
    """The params of a notebook run: the defaults overridden by the injected values."""
    return {**default_parameters(nb), **injected_parameters(nb)}
