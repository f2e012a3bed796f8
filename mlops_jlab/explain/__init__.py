"""Model explanations: permutation importance, partial dependence, per-row contributions.

Computed where the data is (:mod:`.compute`, called by ``mlops.explain``), stored on a
model version (:class:`ExplanationService`), shown in the model card, the panel and, per
prediction, by serving workers (:class:`.local.LocalExplainer`). Importing this package
loads neither scikit-learn nor shap.
"""

from .explanation import Explanation
from .records import check_payload, summary
from .service import ExplanationService

__all__ = ["Explanation", "ExplanationService", "check_payload", "summary"]
