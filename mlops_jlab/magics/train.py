"""``%%mlops_train``: run a cell inside a tracked run.

Records the cell source and notebook, params of every scikit-learn estimator fitted
in the cell and the scalar variables it assigns, the training duration, evaluation
metrics (``--eval X,Y``), explicit ``mlops.log_*`` calls, the training data as a
dataset, and the fitted model as an artifact with its input schema.
"""

from __future__ import annotations

import ast
import contextlib
import time
import traceback
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..client import api
from ..client import registry as api_registry
from ..errors import MlopsError
from ..models.evaluation import evaluate
from ..registry.names import model_name as check_model_name
from ..tracking import environment as env
from ..widgets.run_card import RunCard
from .arguments import parse_line
from .capture import Fit, capture_cell, is_estimator

MAX_PARAM_TEXT = 250


def _assigned_names(source: str, plain_only: bool = False) -> set[str]:
    """Names a cell binds; ``plain_only`` keeps ``x = ...`` style assignments and drops
    loop, comprehension, ``with`` and import targets (which are not settings)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if plain_only:
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _param_value(value: Any) -> str | None:
    if value is None or isinstance(value, (bool, int, float, str)):
        text = str(value)
    elif is_estimator(value):
        text = type(value).__name__
    elif callable(value):
        text = getattr(value, "__name__", type(value).__name__)
    else:
        return None
    return text if len(text) <= MAX_PARAM_TEXT else text[: MAX_PARAM_TEXT - 1] + "…"


def estimator_params(est: Any, prefix: str = "") -> dict[str, str]:
    """Flat, text params of an estimator (deep, so pipelines show their steps' params)."""
    out = {f"{prefix}estimator": type(est).__name__}
    try:
        params = est.get_params(deep=True)
    except Exception:
        return out
    for key, value in params.items():
        text = _param_value(value)
        if text is not None:
            out[f"{prefix}{key}"] = text
    return out


def _variable_of(namespace: dict[str, Any], obj: Any) -> str | None:
    if obj is None:
        return None
    for name, value in namespace.items():
        if value is obj and not name.startswith("_"):
            return name
    return None


@magics_class
class TrainMagics(Magics):
    """The ``%%mlops_train`` cell magic."""

    @magic_arguments()
    @argument("--experiment", "-e", help="experiment of the run (default: the current one)")
    @argument("--name", "-n", help="run name")
    @argument("--eval", dest="eval_vars", metavar="X_VAR,Y_VAR",
              help="variables holding evaluation data; standard metrics are logged")
    @argument("--model", "-m", metavar="VAR", help="variable holding the model to store "
              "(default: the last estimator fitted in the cell)")
    @argument("--tag", "-t", action="append", default=[], metavar="KEY=VALUE",
              help="tag the run (repeatable)")
    @argument("--no-model", action="store_true", help="do not store the fitted model")
    @argument("--register", "-r", metavar="NAME",
              help="register the stored model as the next version of NAME")
    @cell_magic
    def mlops_train(self, line: str, cell: str) -> Any:
        """Run the cell inside a tracked run; see ``%%mlops_train?``."""
        args = parse_line(self.mlops_train, line, "%%mlops_train")
        ns = self.shell.user_ns
        tags = self._tags(args.tag)
        assigned = _assigned_names(cell)
        eval_vars = self._eval_vars(args.eval_vars, ns, assigned)
        if args.register is not None:
            try:
                check_model_name(args.register)
            except MlopsError as exc:
                raise UsageError(f"--register: {exc}") from exc
            if args.no_model:
                raise UsageError("--register needs the model: drop --no-model")
        if args.model and args.model not in ns and args.model not in assigned:
            raise UsageError(f"--model {args.model}: no variable {args.model!r} in the "
                             "notebook or assigned by this cell")
        try:
            run = api.start_run(name=args.name, experiment=args.experiment, tags=tags,
                                source={**env.source(cell_source=cell), "magic": "mlops_train"})
        except MlopsError as exc:
            raise UsageError(f"%%mlops_train: {exc}") from exc

        started = time.perf_counter()
        try:
            with capture_cell(ns) as captured:
                value = self._execute(cell)
        except BaseException as exc:
            status = "killed" if isinstance(exc, KeyboardInterrupt) else "failed"
            run.end(status, error="".join(traceback.format_exception(exc)))
            raise
        duration = time.perf_counter() - started
        try:
            settings = _assigned_names(cell, plain_only=True)
            variables = {k: v for k, v in captured.variables.items() if k in settings}
            model_name: str | None = self._record(run, captured.fitted(), variables, args,
                                                  eval_vars, duration)
        except BaseException as exc:
            run.end("failed", error="".join(traceback.format_exception(exc)))
            if isinstance(exc, MlopsError):
                raise UsageError(f"%%mlops_train: {exc}") from exc
            raise
        run.end("finished")
        registered = None
        if args.register:
            if not model_name:
                raise UsageError("--register: the cell fitted no model to register")
            try:
                registered = api_registry.register_model(run, args.register)
            except MlopsError as exc:
                raise UsageError(f"--register {args.register}: {exc}") from exc
        RunCard(run.info, model_name, registered=registered).show()
        return value

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _tags(items: list[str]) -> dict[str, str]:
        tags = {}
        for item in items:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise UsageError(f"--tag {item!r}: expected KEY=VALUE")
            tags[key.strip()] = value
        return tags

    @staticmethod
    def _eval_vars(spec: str | None, ns: dict[str, Any],
                   assigned: set[str]) -> tuple[str, str] | None:
        if not spec:
            return None
        parts = [p.strip() for p in spec.split(",")]
        if len(parts) != 2 or not all(parts):
            raise UsageError(f"--eval {spec!r}: expected two variable names, X_VAR,Y_VAR")
        for name in parts:
            if not name.isidentifier():
                raise UsageError(f"--eval: {name!r} is not a variable name")
            if name not in ns and name not in assigned:
                raise UsageError(f"--eval: no variable {name!r} in the notebook or "
                                 "assigned by this cell")
        return parts[0], parts[1]

    def _execute(self, cell: str) -> Any:
        """Run the cell in the user namespace; return its last expression's value."""
        source = self.shell.transform_cell(cell)
        filename = self.shell.compile.cache(source)  # tracebacks show the cell's lines
        tree = ast.parse(source, filename)
        ns = self.shell.user_ns
        last = None
        quiet = source.rstrip().endswith(";")  # like IPython: a trailing ; hides the value
        if tree.body and isinstance(tree.body[-1], ast.Expr) and not quiet:
            last = ast.Expression(tree.body.pop().value)
        if tree.body:
            exec(compile(tree, filename, "exec"), ns)
        if last is not None:
            return eval(compile(last, filename, "eval"), ns)
        return None

    def _record(self, run: Any, fits: list[Fit], variables: dict[str, Any], args: Any,
                eval_vars: tuple[str, str] | None, duration: float) -> str | None:
        ns = self.shell.user_ns
        model = None
        model_fit: Fit | None = None
        if args.model:
            if args.model not in ns:
                raise UsageError(f"--model {args.model}: the cell did not define it")
            model = ns[args.model]
            model_fit = next((f for f in fits if f.estimator is model), None)
        elif fits:
            model_fit = fits[-1]
            model = model_fit.estimator

        params: dict[str, str] = {}
        if model is not None and is_estimator(model):
            params.update(estimator_params(model))
        for fit in fits:
            if fit.estimator is model:
                continue
            label = fit.variable or type(fit.estimator).__name__
            params.update(estimator_params(fit.estimator, prefix=f"{label}."))
        for name, value in variables.items():
            if is_estimator(value):
                continue
            key = name if name not in params or params[name] == str(value) else f"var.{name}"
            params[key] = str(value)
        run.log_params(params)
        run.log_metric("training_duration_s", round(duration, 6), step=0)

        if model_fit is not None and model_fit.X is not None:
            x_name = _variable_of(ns, model_fit.X) or "train"
            with contextlib.suppress(MlopsError):  # unsupported data shape: the run stands
                run.log_dataset(model_fit.X, name=x_name, role="train")
        if eval_vars is not None:
            if model is None:
                raise UsageError("--eval given but the cell fitted no model (use --model VAR)")
            missing = [v for v in eval_vars if v not in ns]
            if missing:
                raise UsageError(f"--eval: the cell did not define {', '.join(missing)}")
            X, y = ns[eval_vars[0]], ns[eval_vars[1]]
            run.log_metrics(evaluate(model, X, y), step=0)
            with contextlib.suppress(MlopsError):
                run.log_dataset(X, name=eval_vars[0], role="test")
        if model is None:
            return None
        if not args.no_model and hasattr(model, "predict"):
            example = model_fit.X if model_fit is not None else None
            run.log_model(model, name="model", input_example=example)
        return type(model).__name__


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext mlops_jlab`` registers the magics."""
    from .automl import AutoMLMagics
    from .deploy import DeployMagics

    ipython.register_magics(TrainMagics)
    ipython.register_magics(DeployMagics)
    ipython.register_magics(AutoMLMagics)
