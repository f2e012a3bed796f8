"""Every REST route of the extension (path templates relative to the server base URL)."""

from __future__ import annotations

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
_ID = r"(?P<run_id>[0-9a-fA-F]{1,64})"
_MODEL = r"(?P<name>[^/]+)"
_REF = r"(?P<ref>[^/]+)"

ROUTES = [
    (rf"{API}/version", VersionHandler),
    (rf"{API}/openapi\.json", OpenApiHandler),
    (rf"{API}/experiments", ExperimentsHandler),
    (rf"{API}/experiments/(?P<ref>[^/]+)", ExperimentHandler),
    (rf"{API}/experiments/(?P<ref>[^/]+)/keys", ExperimentKeysHandler),
    (rf"{API}/runs", RunsHandler),
    (rf"{API}/runs/{_ID}", RunHandler),
    (rf"{API}/runs/{_ID}/end", RunEndHandler),
    (rf"{API}/runs/{_ID}/params", RunParamsHandler),
    (rf"{API}/runs/{_ID}/tags", RunTagsHandler),
    (rf"{API}/runs/{_ID}/steps", RunStepsHandler),
    (rf"{API}/runs/{_ID}/datasets", RunDatasetsHandler),
    (rf"{API}/runs/{_ID}/metrics/(?P<key>.+)", MetricHistoryHandler),
    (rf"{API}/metrics", MetricsHandler),
    (rf"{API}/runs/{_ID}/artifacts/(?P<path>.+)", ArtifactHandler),
    (rf"{API}/runs/{_ID}/notebook", RunNotebookHandler),
    (rf"{API}/models", ModelsHandler),
    (rf"{API}/models/{_MODEL}", ModelHandler),
    (rf"{API}/models/{_MODEL}/rules", RulesHandler),
    (rf"{API}/models/{_MODEL}/versions", VersionsHandler),
    (rf"{API}/models/{_MODEL}/versions/{_REF}", ModelVersionHandler),
    (rf"{API}/models/{_MODEL}/versions/{_REF}/lineage", LineageHandler),
    (rf"{API}/models/{_MODEL}/versions/{_REF}/validations", ValidationsHandler),
    (rf"{API}/models/{_MODEL}/versions/{_REF}/explanations", ExplanationsHandler),
    (rf"{API}/models/{_MODEL}/versions/{_REF}/explanations/(?P<explanation>[^/]+)",
     ExplanationHandler),
    (rf"{API}/models/{_MODEL}/aliases/(?P<alias>[^/]+)", AliasHandler),
    (rf"{API}/deployments", DeploymentsHandler),
    (rf"{API}/deployments/(?P<name>[^/]+)", DeploymentHandler),
    (rf"{API}/deployments/(?P<name>[^/]+)/events", EventsHandler),
    (rf"{API}/deployments/(?P<name>[^/]+)/stats", StatsHandler),
    (rf"{API}/deployments/(?P<name>[^/]+)/predict", PredictHandler),
    (rf"{API}/deployments/(?P<name>[^/]+)/token", TokenHandler),
    (rf"{API}/deployments/(?P<name>[^/]+)/feedback", FeedbackHandler),
    (rf"{API}/monitoring/(?P<name>[^/]+)/drift", DriftHandler),
    (rf"{API}/monitoring/(?P<name>[^/]+)/drift/history", DriftHistoryHandler),
    (rf"{API}/monitoring/(?P<name>[^/]+)/performance", PerformanceHandler),
    (rf"{API}/monitoring/(?P<name>[^/]+)/rules", AlertRulesHandler),
    (rf"{API}/monitoring/(?P<name>[^/]+)/evaluate", EvaluateHandler),
    (rf"{API}/alerts", AlertsHandler),
    (rf"{API}/alerts/(?P<alert_id>[0-9a-f]{{1,32}})/acknowledge", AcknowledgeHandler),
    (rf"{API}/me", MeHandler),
    (rf"{API}/users", UsersHandler),
    (rf"{API}/users/(?P<name>[^/]+)", UserHandler),
    (rf"{API}/users/(?P<name>[^/]+)/token", UserTokenHandler),
    (rf"{API}/promotions", PromotionsHandler),
    (rf"{API}/promotions/(?P<request_id>[0-9a-f]{{1,32}})", PromotionHandler),
    (rf"{API}/promotions/(?P<request_id>[0-9a-f]{{1,32}})/(?P<decision>approve|reject|cancel)",
     PromotionDecisionHandler),
    (rf"{API}/models/{_MODEL}/promotions", ModelPromotionsHandler),
    (rf"{API}/models/{_MODEL}/policy", PolicyHandler),
    (rf"{API}/(?P<kind>models|experiments)/(?P<ref>[^/]+)/permissions", PermissionsHandler),
    (rf"{API}/models/{_MODEL}/versions/{_REF}/card", ModelCardHandler),
    (rf"{API}/audit", AuditHandler),
    (rf"{API}/audit/export", AuditExportHandler),
    (rf"{API}/audit/verify", AuditVerifyHandler),
    (rf"{API}/schedules", SchedulesHandler),
    (rf"{API}/schedules/preview", SchedulePreviewHandler),
    (rf"{API}/schedules/{_REF}", ScheduleHandler),
    (rf"{API}/schedules/{_REF}/run", ScheduleRunHandler),
]
