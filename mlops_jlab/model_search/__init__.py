"""AutoML: model selection over scikit-learn families with Optuna, every trial a run.

``automl(X, y, ...)`` (exposed as ``mlops.automl`` and ``%%mlops_automl``) is in
:mod:`.service`; the pieces are the schema and preprocessing (:mod:`.schema`), the
families and search spaces (:mod:`.space`), the metrics (:mod:`.metrics`), the search
under a deadline (:mod:`.search`), where folds run (:mod:`.parallel`), the trial runs
(:mod:`.trials`), the charts (:mod:`.figures`) and the result (:mod:`.result`).
"""

from .metrics import metric_names
from .result import AutoMLResult
from .service import automl
from .space import FAMILIES

__all__ = ["FAMILIES", "AutoMLResult", "automl", "metric_names"]
