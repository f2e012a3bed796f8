"""``%%mlops_automl``: AutoML on the DataFrame a cell evaluates to.

    %%mlops_automl --target y --time-budget 120 [--task classification|regression]
                   [--metric f1] [--register NAME] [--experiment E] [--parallel N]
                   [--cv K] [--families a,b] [--max-trials N] [--seed S] [--out VAR]
    df = pd.read_parquet("train.parquet")
    df[df.year >= 2020]

The cell runs in the notebook's namespace; its last expression (or a bare variable
name) is the training data, target column included. The result
(:class:`~mlops_jlab.model_search.result.AutoMLResult`) is bound to ``VAR`` (default
``automl_result``) and displayed: summary, leaderboard and charts.
"""

from __future__ import annotations

import ast
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..errors import MlopsError
from .arguments import parse_line


def cell_value(shell: Any, cell: str) -> Any:
    """Run ``cell`` in the user namespace; the value of its last expression (None when
    it ends with a statement)."""
    source = shell.transform_cell(cell)
    filename = shell.compile.cache(source)  # tracebacks show the cell's lines
    tree = ast.parse(source, filename)
    ns = shell.user_ns
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    if tree.body:
        exec(compile(tree, filename, "exec"), ns)
    return eval(compile(last, filename, "eval"), ns) if last is not None else None


@magics_class
class AutoMLMagics(Magics):
    """The ``%%mlops_automl`` cell magic."""

    @magic_arguments()
    @argument("--target", "-y", required=True, help="the target column of the data")
    @argument("--task", choices=["classification", "regression"],
              help="the learning task (default: inferred from the target)")
    @argument("--time-budget", "-b", type=float, default=60.0, metavar="SECONDS",
              help="seconds for the whole search, refit and recording (default 60)")
    @argument("--metric", "-m", help="metric to optimise (default accuracy / r2)")
    @argument("--register", "-r", metavar="NAME",
              help="register the best pipeline as the next version of NAME")
    @argument("--experiment", "-e", help="experiment of the run (default: the current one)")
    @argument("--parallel", "-p", type=int, metavar="N",
              help="run trials on a Dask LocalCluster of N workers")
    @argument("--scheduler", metavar="ADDRESS", help="run trials on this Dask scheduler")
    @argument("--cv", type=int, default=5, help="cross-validation folds (default 5)")
    @argument("--families", metavar="A,B", help="model families to search (default: all "
              "the data size allows)")
    @argument("--max-trials", type=int, metavar="N", help="stop after N trials")
    @argument("--seed", type=int, default=0, help="seed of the sampler and the folds")
    @argument("--name", "-n", help="name of the parent run")
    @argument("--out", "-o", default="automl_result", metavar="VAR",
              help="variable receiving the result (default automl_result)")
    @cell_magic
    def mlops_automl(self, line: str, cell: str) -> None:
        """AutoML on the DataFrame the cell evaluates to; see ``%%mlops_automl?``."""
        args = parse_line(self.mlops_automl, line, "%%mlops_automl")
        if not args.out.isidentifier():
            raise UsageError(f"--out {args.out!r} is not a variable name")
        if not cell.strip():
            raise UsageError("%%mlops_automl: the cell is empty; end it with the DataFrame "
                             "to learn from")
        shell = self.shell
        assert shell is not None  # a registered magic always has its shell
        data = cell_value(shell, cell)
        import pandas as pd

        if not isinstance(data, pd.DataFrame):
            raise UsageError("%%mlops_automl: the cell must end with the training data as "
                             f"a DataFrame, got {type(data).__name__}")
        from ..client.automl import automl

        families = [f.strip() for f in args.families.split(",")] if args.families else None
        try:
            result = automl(data, target=args.target, task=args.task, metric=args.metric,
                            time_budget=args.time_budget, cv=args.cv, families=families,
                            register=args.register, experiment=args.experiment,
                            parallel=args.parallel, scheduler=args.scheduler,
                            seed=args.seed, max_trials=args.max_trials, name=args.name)
        except MlopsError as exc:
            raise UsageError(f"%%mlops_automl: {exc}") from exc
        shell.user_ns[args.out] = result
        from IPython.display import display

        display(result)
