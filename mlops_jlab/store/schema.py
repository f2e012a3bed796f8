"""SQL tables of the store (SQLAlchemy Core). Alembic migrations create them.

Times are integers in milliseconds since the epoch (UTC). Ids are 32-char hex uuids.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("tags", JSON, nullable=False, default=dict),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("experiment_id", String(32), ForeignKey("experiments.id"), nullable=False),
    Column("name", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("user", String(256), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("parent_run_id", String(32), ForeignKey("runs.id"), nullable=True),
    Column("source", JSON, nullable=False, default=dict),
    Column("environment", JSON, nullable=False, default=dict),
    Column("error", Text, nullable=True),
    Index("ix_runs_experiment_start", "experiment_id", "start_time"),
    Index("ix_runs_parent", "parent_run_id"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_params_key_value", "key", "value"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

metrics = Table(
    "metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("value", Float, nullable=True),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_metrics_run_key_step", "run_id", "key", "step"),
)

latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Float, nullable=True),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_latest_metrics_key_value", "key", "value"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("schema", JSON, nullable=False),
    Column("profile", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    UniqueConstraint("name", "version"),
    UniqueConstraint("name", "fingerprint"),
)

run_datasets = Table(
    "run_datasets",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("dataset_id", String(32), ForeignKey("datasets.id"), primary_key=True),
    Column("role", String(32), primary_key=True),
)

# ---------------------------------------------------------------- model registry
registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("tags", JSON, nullable=False, default=dict),
    Column("rules", JSON, nullable=False, default=list),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model", String(256), ForeignKey("registered_models.name"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # pending | ready | failed
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("model_path", String(1024), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("tags", JSON, nullable=False, default=dict),
    Column("archived", Integer, nullable=False, default=0),
    Column("manifest", JSON, nullable=True),
    Column("files", JSON, nullable=True),  # relative path -> sha256
    Column("metrics", JSON, nullable=False, default=dict),
    Column("unsafe_serializer", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("ready_at", BigInteger, nullable=True),
    UniqueConstraint("model", "version"),
    Index("ix_model_versions_status_created", "status", "created_at"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("model", String(256), ForeignKey("registered_models.name"), primary_key=True),
    Column("alias", String(128), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("set_at", BigInteger, nullable=False),
    Column("set_by", String(256), nullable=False),
)

validation_reports = Table(
    "validation_reports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("version_id", String(32), ForeignKey("model_versions.id"), nullable=False),
    Column("passed", Integer, nullable=False),
    Column("results", JSON, nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    Index("ix_validation_reports_version_created", "version_id", "created_at"),
)

model_explanations = Table(
    "model_explanations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("version_id", String(32), ForeignKey("model_versions.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("payload", JSON, nullable=False),  # the record of mlops_jlab.explain.records
    Index("ix_model_explanations_version_created", "version_id", "created_at"),
)

# ---------------------------------------------------------------- serving
deployments = Table(
    "deployments",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("model", String(256), ForeignKey("registered_models.name"), nullable=False),
    Column("environment", String(16), nullable=False),  # staging | production
    Column("status", String(16), nullable=False),  # active | stopped
    Column("port", Integer, nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

deployment_revisions = Table(
    "deployment_revisions",
    metadata,
    Column("deployment", String(128), ForeignKey("deployments.name"), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("desired", JSON, nullable=False),  # traffic [{version, weight}], shadow, replicas
    Column("reason", String(32), nullable=False),  # deploy | update | rollback
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
)

deployment_events = Table(
    "deployment_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deployment", String(128), ForeignKey("deployments.name"), nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("data", JSON, nullable=False, default=dict),
    Index("ix_deployment_events_deployment_time", "deployment", "time"),
)

prediction_log = Table(
    "prediction_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deployment", String(128), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("shadow", Integer, nullable=False, default=0),
    Column("inputs", JSON, nullable=False),
    Column("outputs", JSON, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("status", Integer, nullable=False, default=200, server_default="200"),
    Index("ix_prediction_log_deployment_time", "deployment", "time"),
    Index("ix_prediction_log_request", "request_id"),
)

controller_lease = Table(
    "controller_lease",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("holder", String(128), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

# ---------------------------------------------------------------- monitoring
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deployment", String(128), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("label", JSON, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    UniqueConstraint("deployment", "request_id"),
)

drift_reports = Table(
    "drift_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deployment", String(128), nullable=False),
    Column("version", Integer, nullable=False),  # whose training data is the reference
    Column("computed_at", BigInteger, nullable=False),
    Column("window_start", BigInteger, nullable=True),
    Column("window_end", BigInteger, nullable=True),
    Column("rows", BigInteger, nullable=False),
    Column("share", Float, nullable=False),
    Column("dataset_drift", Integer, nullable=False),
    Column("report", JSON, nullable=False),
    Index("ix_drift_reports_deployment_time", "deployment", "computed_at"),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("deployment", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("enabled", Integer, nullable=False, default=1),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    Index("ix_alert_rules_deployment", "deployment"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("deployment", String(128), nullable=False),
    Column("rule_id", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # firing | acknowledged | resolved
    Column("message", Text, nullable=False),
    Column("value", Float, nullable=True),
    Column("threshold", Float, nullable=True),
    Column("fired_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("acknowledged_at", BigInteger, nullable=True),
    Column("acknowledged_by", String(256), nullable=True),
    Column("resolved_at", BigInteger, nullable=True),
    Column("data", JSON, nullable=False, default=dict),
    Index("ix_alerts_deployment_status", "deployment", "status"),
    Index("ix_alerts_rule", "rule_id", "fired_at"),
)

# ---------------------------------------------------------------- governance
users = Table(
    "users",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("role", String(16), nullable=False),  # viewer | contributor | approver | admin
    Column("created_at", BigInteger, nullable=False),
    Column("granted_by", String(256), nullable=True),
    Column("granted_at", BigInteger, nullable=True),
    Column("token_hash", String(64), nullable=True, unique=True),
)

delegated_tokens = Table(
    "delegated_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user", String(256), nullable=False),
    Column("purpose", String(256), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_delegated_tokens_expires_at", "expires_at"),
)

permissions = Table(
    "permissions",
    metadata,
    Column("resource_type", String(16), primary_key=True),  # experiment | model
    Column("resource", String(256), primary_key=True),
    Column("owner", String(256), nullable=False),
    Column("readers", JSON, nullable=False, default=list),
    Column("writers", JSON, nullable=False, default=list),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(256), nullable=False),
)

model_policies = Table(
    "model_policies",
    metadata,
    Column("model", String(256), primary_key=True),
    Column("required_approvals", Integer, nullable=False),
    Column("allow_self_approval", Integer, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(256), nullable=False),
)

promotion_requests = Table(
    "promotion_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("alias", String(64), nullable=False),
    Column("requester", String(256), nullable=False),
    Column("comment", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | approved | rejected | cancelled
    Column("required_approvals", Integer, nullable=False),
    Column("allow_self_approval", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("decided_at", BigInteger, nullable=True),
    Index("ix_promotion_requests_model_status", "model", "status"),
)

promotion_decisions = Table(
    "promotion_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(32), nullable=False),
    Column("user", String(256), nullable=False),
    Column("decision", String(16), nullable=False),  # approve | reject
    Column("comment", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    UniqueConstraint("request_id", "user"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("time", BigInteger, nullable=False),
    Column("actor", String(256), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=False),
    Column("target", String(512), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # id of the audit key whose HMAC ``hash`` is; NULL: a legacy plain-sha256 event
    Column("key_id", String(16), nullable=True),
    Index("ix_audit_events_actor", "actor", "seq"),
    Index("ix_audit_events_action", "action", "seq"),
    Index("ix_audit_events_target", "target_type", "target", "seq"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

model_cards = Table(
    "model_cards",
    metadata,
    Column("model", String(256), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("intended_use", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(256), nullable=False),
)

# ---------------------------------------------------------------- team mode
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("user", String(256), primary_key=True),
    Column("method", String(8), nullable=False),
    Column("path", String(2048), nullable=False),
    Column("request_hash", String(64), nullable=False),  # sha256 of method, path, body
    Column("status", Integer, nullable=False),  # 0 while the first request is running
    Column("response", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

# ---------------------------------------------------------------- schedules
schedules = Table(
    "schedules",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("cron", String(128), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # notebook | pipeline
    Column("path", Text, nullable=False),  # relative to the root the scheduler runs in
    Column("parameters", JSON, nullable=False, default=dict),
    Column("experiment", String(256), nullable=True),
    Column("paused", Integer, nullable=False, default=0),
    Column("created_by", String(256), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("next_run_at", BigInteger, nullable=True),  # null while paused
    Index("ix_schedules_next_run_at", "next_run_at"),
)

schedule_firings = Table(
    "schedule_firings",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("schedule_id", String(32), nullable=False),
    Column("scheduled_for", BigInteger, nullable=False),
    Column("started_at", BigInteger, nullable=True),
    Column("ended_at", BigInteger, nullable=True),
    Column("status", String(16), nullable=False),  # running | succeeded | failed | missed
    Column("trigger", String(16), nullable=False),  # cron | catch-up | manual
    Column("run_id", String(32), nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_schedule_firings_schedule_id_scheduled_for", "schedule_id", "scheduled_for"),
    Index("ix_schedule_firings_status", "status"),
)
