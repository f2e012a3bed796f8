"""Every REST route of the extension (path templates relative to the server base URL)."""

from __future__ import annotations

import re

from .deployments import (
    DeploymentHandler,
    DeploymentsHandler,
    EventsHandler,
    PredictHandler,
    StatsHandler,
    TokenHandler,
)
from .experiments import ExperimentHandler, ExperimentKeysHandler, ExperimentsHandler
from .explanations import ExplanationHandler, ExplanationsHandler
from .governance import (
    AuditExportHandler,
    AuditHandler,
    AuditVerifyHandler,
    MeHandler,
    ModelCardHandler,
    ModelPromotionsHandler,
    PermissionsHandler,
    PolicyHandler,
    PromotionDecisionHandler,
    PromotionHandler,
    PromotionsHandler,
    UserHandler,
    UsersHandler,
    UserTokenHandler,
)
from .meta import OpenApiHandler, VersionHandler
from .models import (
    AliasHandler,
    LineageHandler,
    ModelHandler,
    ModelsHandler,
    ModelVersionHandler,
    RulesHandler,
    ValidationsHandler,
    VersionsHandler,
)
from .monitoring import (
    AcknowledgeHandler,
    AlertRulesHandler,
    AlertsHandler,
    DriftHandler,
    DriftHistoryHandler,
    EvaluateHandler,
    FeedbackHandler,
    PerformanceHandler,
)
from .notebooks import RunNotebookHandler
from .runs import (
    ArtifactHandler,
    MetricHistoryHandler,
    MetricsHandler,
    RunDatasetsHandler,
    RunEndHandler,
    RunHandler,
    RunParamsHandler,
    RunsHandler,
    RunStepsHandler,
    RunTagsHandler,
)
from .schedules import (
    ScheduleHandler,
    SchedulePreviewHandler,
    ScheduleRunHandler,
    SchedulesHandler,
)

API = "/mlops/api"

#: the regular expression of each path parameter (any other: one path segment)
PARAMETERS = {
    "run_id": r"[0-9a-fA-F]{1,64}",
    "alert_id": r"[0-9a-f]{1,32}",
    "request_id": r"[0-9a-f]{1,32}",
    "decision": r"approve|reject|cancel",
    "kind": r"models|experiments",
    "key": r".+",
    "path": r".+",
}

#: path template (as in the OpenAPI document and :data:`.route_access.ROUTE_ACCESS`)
#: -> handler
HANDLERS: list[tuple[str, type]] = [
    (f"{API}/version", VersionHandler),
    (f"{API}/openapi.json", OpenApiHandler),
    (f"{API}/experiments", ExperimentsHandler),
    (f"{API}/experiments/{{ref}}", ExperimentHandler),
    (f"{API}/experiments/{{ref}}/keys", ExperimentKeysHandler),
    (f"{API}/runs", RunsHandler),
    (f"{API}/runs/{{run_id}}", RunHandler),
    (f"{API}/runs/{{run_id}}/end", RunEndHandler),
    (f"{API}/runs/{{run_id}}/params", RunParamsHandler),
    (f"{API}/runs/{{run_id}}/tags", RunTagsHandler),
    (f"{API}/runs/{{run_id}}/steps", RunStepsHandler),
    (f"{API}/runs/{{run_id}}/datasets", RunDatasetsHandler),
    (f"{API}/runs/{{run_id}}/metrics/{{key}}", MetricHistoryHandler),
    (f"{API}/metrics", MetricsHandler),
    (f"{API}/runs/{{run_id}}/artifacts/{{path}}", ArtifactHandler),
    (f"{API}/runs/{{run_id}}/notebook", RunNotebookHandler),
    (f"{API}/models", ModelsHandler),
    (f"{API}/models/{{name}}", ModelHandler),
    (f"{API}/models/{{name}}/rules", RulesHandler),
    (f"{API}/models/{{name}}/versions", VersionsHandler),
    (f"{API}/models/{{name}}/versions/{{ref}}", ModelVersionHandler),
    (f"{API}/models/{{name}}/versions/{{ref}}/lineage", LineageHandler),
    (f"{API}/models/{{name}}/versions/{{ref}}/validations", ValidationsHandler),
    (f"{API}/models/{{name}}/versions/{{ref}}/explanations", ExplanationsHandler),
    (f"{API}/models/{{name}}/versions/{{ref}}/explanations/{{explanation}}",
     ExplanationHandler),
    (f"{API}/models/{{name}}/aliases/{{alias}}", AliasHandler),
    (f"{API}/deployments", DeploymentsHandler),
    (f"{API}/deployments/{{name}}", DeploymentHandler),
    (f"{API}/deployments/{{name}}/events", EventsHandler),
    (f"{API}/deployments/{{name}}/stats", StatsHandler),
    (f"{API}/deployments/{{name}}/predict", PredictHandler),
    (f"{API}/deployments/{{name}}/token", TokenHandler),
    (f"{API}/deployments/{{name}}/feedback", FeedbackHandler),
    (f"{API}/monitoring/{{name}}/drift", DriftHandler),
    (f"{API}/monitoring/{{name}}/drift/history", DriftHistoryHandler),
    (f"{API}/monitoring/{{name}}/performance", PerformanceHandler),
    (f"{API}/monitoring/{{name}}/rules", AlertRulesHandler),
    (f"{API}/monitoring/{{name}}/evaluate", EvaluateHandler),
    (f"{API}/alerts", AlertsHandler),
    (f"{API}/alerts/{{alert_id}}/acknowledge", AcknowledgeHandler),
    (f"{API}/me", MeHandler),
    (f"{API}/users", UsersHandler),
    (f"{API}/users/{{name}}", UserHandler),
    (f"{API}/users/{{name}}/token", UserTokenHandler),
    (f"{API}/promotions", PromotionsHandler),
    (f"{API}/promotions/{{request_id}}", PromotionHandler),
    (f"{API}/promotions/{{request_id}}/{{decision}}", PromotionDecisionHandler),
    (f"{API}/models/{{name}}/promotions", ModelPromotionsHandler),
    (f"{API}/models/{{name}}/policy", PolicyHandler),
    (f"{API}/{{kind}}/{{ref}}/permissions", PermissionsHandler),
    (f"{API}/models/{{name}}/versions/{{ref}}/card", ModelCardHandler),
    (f"{API}/audit", AuditHandler),
    (f"{API}/audit/export", AuditExportHandler),
    (f"{API}/audit/verify", AuditVerifyHandler),
    (f"{API}/schedules", SchedulesHandler),
    (f"{API}/schedules/preview", SchedulePreviewHandler),
    (f"{API}/schedules/{{ref}}", ScheduleHandler),
    (f"{API}/schedules/{{ref}}/run", ScheduleRunHandler),
]


def pattern(template: str) -> str:
    """The tornado URL pattern of a path template (named groups for its parameters)."""
    parts = re.split(r"\{(\w+)\}", template)
    out = []
    for i, part in enumerate(parts):
        out.append(re.escape(part) if i % 2 == 0 else
                   f"(?P<{part}>{PARAMETERS.get(part, '[^/]+')})")
    return "".join(out).replace("\\/", "/")


#: what the extension registers: (pattern, handler, {"route": template}); the base
#: handler finds its route's entry of the access table through ``route``
ROUTES = [(pattern(template), handler, {"route": template}) for template, handler in HANDLERS]
