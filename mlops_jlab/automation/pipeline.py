"""Pipeline files: notebooks with parameters and dependencies, declared in YAML.

```yaml
name: iris-training            # default: the file's name
experiment: pipelines          # default: the store's default experiment
parameters: {test_size: 0.25}  # the pipeline's own, overridable with -p
steps:
  - name: prepare
    notebook: prepare.ipynb    # relative to this file
    parameters: {test_size: "${parameters.test_size}"}
  - name: train
    notebook: train.ipynb
    parameters: {data_path: "${steps.prepare.outputs.data_path}", C: 1.0}
  - name: validate
    notebook: validate.ipynb
    depends_on: [train]
    parameters: {run_id: "${steps.train.run_id}"}
```

A step depends on the steps it names in ``depends_on`` and on those its parameters
refer to. References: ``${parameters.<name>}``, ``${steps.<step>.outputs.<name>}`` (what
the step's notebook declared with ``mlops.log_output``) and ``${steps.<step>.run_id}``.
A value that is exactly one reference takes the referenced value with its type; a
reference inside a longer string is replaced by its text.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, PipelineError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
_REF = re.compile(r"\$\{\s*([^}]*?)\s*\}")
_STEP_KEYS = {"name", "notebook", "parameters", "depends_on"}
_TOP_KEYS = {"name", "experiment", "parameters", "steps", "description"}


@dataclass(frozen=True)
class Step:
    """One notebook of a pipeline."""

    name: str
    notebook: Path
    parameters: dict[str, Any]
    depends_on: tuple[str, ...]


@dataclass(frozen=True)
class Pipeline:
    """A parsed, checked pipeline file."""

    path: Path
    name: str
    experiment: str | None
    parameters: dict[str, Any]
    steps: tuple[Step, ...]
    text: str = field(repr=False)

    def step(self, name: str) -> Step:
        """The step called ``name``."""
        return next(s for s in self.steps if s.name == name)

    @property
    def sha256(self) -> str:
        """Hash of the file's text."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    def order(self) -> list[str]:
        """Step names in an order where each comes after the steps it depends on."""
        done: list[str] = []
        pending = [s.name for s in self.steps]
        while pending:
            for name in pending:
                if all(d in done for d in self.step(name).depends_on):
                    done.append(name)
                    pending.remove(name)
                    break
        return done


def references(value: Any) -> list[list[str]]:
    """Every ``${...}`` reference inside a parameter value, split on dots."""
    if isinstance(value, str):
        return [m.group(1).split(".") for m in _REF.finditer(value)]
    if isinstance(value, Mapping):
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def _fail(path: Path, message: str) -> PipelineError:
    return PipelineError(f"{path.name}: {message}", path=str(path))


def load_pipeline(path: str | os.PathLike[str],
                  overrides: Mapping[str, Any] | None = None) -> Pipeline:
    """Read and check a pipeline file; ``overrides`` replace pipeline parameters.

    :class:`PipelineError` names the problem: unreadable YAML, an unknown key, a step
    without a notebook or with a missing one, a duplicate or invalid step name, a
    reference to an unknown step, parameter or field, a dependency cycle.
    """
    import yaml

    file = Path(path)
    if not file.is_file():
        raise PipelineError(f"no such pipeline file: {str(file)!r}", path=str(file))
    text = file.read_text(encoding="utf-8")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(file, f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise _fail(file, "must be a mapping with a 'steps' list")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise _fail(file, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                          f"allowed: {', '.join(sorted(_TOP_KEYS))}")
    params = doc.get("parameters") or {}
    if not isinstance(params, dict):
        raise _fail(file, "'parameters' must be a mapping")
    for key, value in (overrides or {}).items():
        if key not in params:
            raise _fail(file, f"unknown pipeline parameter {key!r}; the file declares "
                              f"{', '.join(sorted(params)) or 'none'}")
        params[key] = value
    raw_steps = doc.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise _fail(file, "'steps' must be a non-empty list")
    steps: list[Step] = []
    for i, raw in enumerate(raw_steps):
        steps.append(_step(file, i, raw, params, {s.name for s in steps}))
    names = [s.name for s in steps]
    for step in steps:
        for dep in step.depends_on:
            if dep not in names:
                raise _fail(file, f"step {step.name!r} depends on unknown step {dep!r}")
            if dep == step.name:
                raise _fail(file, f"step {step.name!r} depends on itself")
    name = doc.get("name") or file.stem
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(file, f"pipeline name {name!r} must be letters, digits, '_' or '-'")
    pipeline = Pipeline(path=file.resolve(), name=name,
                        experiment=str(doc["experiment"]) if doc.get("experiment") else None,
                        parameters=params, steps=tuple(steps), text=text)
    _check_acyclic(file, pipeline)
    return pipeline


def _step(file: Path, index: int, raw: Any, params: Mapping[str, Any],
          earlier: set[str]) -> Step:
    where = f"step {index + 1}"
    if not isinstance(raw, dict):
        raise _fail(file, f"{where} must be a mapping with 'name' and 'notebook'")
    unknown = set(raw) - _STEP_KEYS
    if unknown:
        raise _fail(file, f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                          f"allowed: {', '.join(sorted(_STEP_KEYS))}")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(file, f"{where}: 'name' must be letters, digits, '_' or '-' "
                          f"(got {name!r})")
    if name in earlier:
        raise _fail(file, f"two steps are called {name!r}")
    notebook = raw.get("notebook")
    if not isinstance(notebook, str) or not notebook.endswith(".ipynb"):
        raise _fail(file, f"step {name!r}: 'notebook' must be the path of an .ipynb file")
    nb_path = Path(notebook) if Path(notebook).is_absolute() else file.parent / notebook
    if not nb_path.is_file():
        raise _fail(file, f"step {name!r}: no such notebook {notebook!r} (paths are "
                          "relative to the pipeline file)")
    step_params = raw.get("parameters") or {}
    if not isinstance(step_params, dict):
        raise _fail(file, f"step {name!r}: 'parameters' must be a mapping")
    deps = raw.get("depends_on") or []
    if isinstance(deps, str):
        deps = [deps]
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise _fail(file, f"step {name!r}: 'depends_on' must be a list of step names")
    implied: list[str] = []
    for ref in references(step_params):
        implied.extend(_check_reference(file, name, ref, params))
    ordered = list(dict.fromkeys([*deps, *implied]))
    return Step(name=name, notebook=nb_path.resolve(), parameters=dict(step_params),
                depends_on=tuple(ordered))


def _check_reference(file: Path, step: str, ref: list[str],
                     params: Mapping[str, Any]) -> list[str]:
    """The step a reference depends on (none for a pipeline parameter)."""
    text = "${" + ".".join(ref) + "}"
    if len(ref) == 2 and ref[0] == "parameters":
        if ref[1] not in params:
            raise _fail(file, f"step {step!r}: {text} names no pipeline parameter")
        return []
    if len(ref) == 3 and ref[0] == "steps" and ref[2] == "run_id":
        return [ref[1]]
    if len(ref) == 4 and ref[0] == "steps" and ref[2] == "outputs":
        return [ref[1]]
    raise _fail(file, f"step {step!r}: cannot resolve {text}; use ${{parameters.NAME}}, "
                      "${steps.STEP.outputs.NAME} or ${steps.STEP.run_id}")


def _check_acyclic(file: Path, pipeline: Pipeline) -> None:
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*trail[trail.index(name):], name]
            raise _fail(file, "dependency cycle: " + " → ".join(cycle))
        state[name] = 1
        for dep in pipeline.step(name).depends_on:
            visit(dep, [*trail, name])
        state[name] = 2

    for step in pipeline.steps:
        visit(step.name, [])


def resolve(value: Any, params: Mapping[str, Any],
            steps: Mapping[str, Mapping[str, Any]]) -> Any:
    """``value`` with its references replaced. ``steps`` maps a finished step to
    ``{"run_id": ..., "outputs": {...}}``; :class:`InvalidInput` when a referenced
    output was not declared by its step."""
    if isinstance(value, Mapping):
        return {k: resolve(v, params, steps) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, params, steps) for v in value]
    if not isinstance(value, str):
        return value

    def lookup(ref: list[str]) -> Any:
        if ref[0] == "parameters":
            return params[ref[1]]
        done = steps[ref[1]]
        if ref[2] == "run_id":
            return done["run_id"]
        outputs = done.get("outputs") or {}
        if ref[3] not in outputs:
            declared = ", ".join(sorted(outputs)) or "nothing"
            raise InvalidInput(f"step {ref[1]!r} declared no output {ref[3]!r} (it declared "
                               f"{declared}; use mlops.log_output in its notebook)")
        return outputs[ref[3]]

    whole = _REF.fullmatch(value.strip())
    if whole:
        return lookup(whole.group(1).split("."))
    return _REF.sub(lambda m: str(lookup(m.group(1).split("."))), value)


def cache_key(step: Step, params: Mapping[str, Any]) -> str:
    """What makes two executions of a step the same: its notebook's bytes and its
    resolved parameters."""
    digest = hashlib.sha256(step.notebook.read_bytes())
    digest.update(json.dumps(params, sort_keys=True, default=str).encode())
    return digest.hexdigest()
