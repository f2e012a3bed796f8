/**
 * The typed REST client of the mlops_jlab server extension (`{base_url}mlops/api/...`).
 *
 * This is the only module of the frontend that talks to the network.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Milliseconds since the Unix epoch (UTC). */
export type EpochMs = number;

export type RunStatus = 'running' | 'finished' | 'failed' | 'killed';

export interface VersionInfo {
  version: string;
  api: number;
}

export interface Experiment {
  id: string;
  name: string;
  created_at: EpochMs;
  created_by: string;
  run_count: number;
  last_run_at: EpochMs | null;
  tags: Record<string, string>;
}

export interface RunSource {
  notebook_path?: string | null;
  notebook_abspath?: string | null;
  notebook_hash?: string | null;
  cell_source?: string | null;
  git_commit?: string | null;
  kind?: 'notebook' | 'script' | 'papermill' | string | null;
}

export interface Run {
  id: string;
  name: string;
  experiment_id: string;
  experiment_name: string;
  status: RunStatus | string;
  user: string;
  start_time: EpochMs | null;
  end_time: EpochMs | null;
  /** Seconds. */
  duration: number | null;
  parent_run_id: string | null;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  source: RunSource | null;
}

export interface RunEnvironment {
  python?: string;
  platform?: string;
  packages?: Record<string, string>;
}

export interface RunArtifact {
  path: string;
  sha256: string;
  size: number;
}

export interface DatasetColumn {
  name: string;
  dtype: string;
}

export interface RunDataset {
  name: string;
  role: string;
  fingerprint: string;
  rows: number | null;
  schema?: DatasetColumn[] | null;
}

export interface RunDetail extends Run {
  environment: RunEnvironment | null;
  metric_keys: string[];
  artifacts: RunArtifact[];
  datasets: RunDataset[];
  /** Traceback text of a failed run. */
  error: string | null;
}

export interface MetricPoint {
  step: number;
  value: number;
  timestamp: EpochMs;
}

export interface MetricHistory {
  run_id: string;
  key: string;
  history: MetricPoint[];
}

export interface RunsPage {
  runs: Run[];
  next_page_token: string | null;
  /** How many runs match in all (when the query asked `count`). */
  total?: number;
}

/** The param, metric and tag keys the runs of an experiment use. */
export interface ExperimentKeys {
  params: string[];
  metrics: string[];
  tags: string[];
}

export type ModelVersionStatus = 'pending' | 'ready' | 'failed';

/** A registered model (`GET models/{name}`). */
export interface RegisteredModel {
  name: string;
  description: string;
  tags: Record<string, string>;
  created_at: EpochMs;
  created_by: string;
  version_count: number;
  latest_version: number | null;
  /** Alias name -> version number, e.g. `{"production": 2}`. */
  aliases: Record<string, number>;
  /** Not in the documented contract; the server sends it. */
  last_updated?: EpochMs | null;
}

export interface ModelSignature {
  inputs: DatasetColumn[];
  outputs: Record<string, unknown> | DatasetColumn[] | null;
  input_kind?: string | null;
}

/** The summary of the latest validation report of a version. */
export interface ValidationSummary {
  id: string;
  passed: boolean;
  created_at: EpochMs;
}

/** A version of a registered model (`GET models/{name}/versions/{v}`). */
export interface ModelVersion {
  name: string;
  version: number;
  status: ModelVersionStatus | string;
  run_id: string | null;
  model_path: string;
  description: string;
  tags: Record<string, string>;
  aliases: string[];
  archived: boolean;
  flavor?: string | null;
  serializer?: string | null;
  unsafe_serializer?: boolean;
  model_class?: string | null;
  signature: ModelSignature | null;
  metrics: Record<string, number>;
  /** File name -> sha256. */
  files: Record<string, string>;
  created_at: EpochMs;
  created_by: string;
  ready_at: EpochMs | null;
  /** The latest validation report's summary, or null. */
  validation: ValidationSummary | null;
}

/**
 * A few rows of a model's training input in the column-split form (the manifest's
 * `input_example`).
 */
export interface InputExample {
  columns: string[];
  data: unknown[][];
}

/**
 * The `manifest.json` of a model folder (read through the run's artifacts route);
 * only the fields the frontend uses.
 */
export interface ModelManifest {
  flavor?: string;
  signature?: ModelSignature | null;
  input_example?: InputExample | null;
  [key: string]: unknown;
}

/** `PATCH models/{name}/versions/{v}` */
export interface ModelVersionPatch {
  description?: string;
  tags?: Record<string, string>;
  archived?: boolean;
}

export interface ValidationResult {
  rule: string;
  kind: string;
  value: number | string | boolean | null;
  threshold: number | string | null;
  passed: boolean;
  message?: string | null;
}

export interface ValidationReport {
  id: string;
  name: string;
  version: number;
  passed: boolean;
  created_at: EpochMs;
  created_by: string;
  data: { rows?: number | null; fingerprint?: string | null } | null;
  results: ValidationResult[];
}

export type LineageNodeKind =
  'model_version' | 'run' | 'dataset' | 'notebook' | 'commit';

export interface LineageNode {
  id: string;
  kind: LineageNodeKind | string;
  label: string;
  /** Kind-specific: `run_id` (run), `name`/`version`/`role`/`rows`/`fingerprint`
   * (dataset), `notebook_path` (notebook, null outside the Jupyter root), `commit`/`branch`. */
  data: Record<string, any>;
}

export interface LineageEdge {
  source: string;
  target: string;
  /** `produced_by`, `trained_on`, `tested_on`, `used`, `source`, `code`, `child_of`. */
  kind: string;
}

export interface Lineage {
  nodes: LineageNode[];
  edges: LineageEdge[];
}

/** The answer of `PUT models/{name}/aliases/{alias}`. */
export interface AliasAssignment {
  alias: string;
  version: number;
}

export type DeploymentStatus = 'active' | 'stopped';
export type DeploymentEnvironment = 'staging' | 'production';

/** One entry of a deployment's traffic split (weights are percents summing to 100). */
export interface TrafficSplit {
  version: number;
  weight: number;
}

/** The desired state of a deployment (its current revision). */
export interface DeploymentDesired {
  traffic: TrafficSplit[];
  shadow?: number | null;
  replicas: number;
}

/** A worker process the controller observes. */
export interface ObservedReplica {
  index: number;
  revision: number;
  pid: number | null;
  ready: boolean;
  alive: boolean;
}

/** A deployment (`GET deployments/{name}`). */
export interface Deployment {
  name: string;
  model: string;
  environment: DeploymentEnvironment | string;
  status: DeploymentStatus | string;
  port: number;
  revision: number;
  /** The worker's predict URL (needs the deployment's bearer token). */
  url: string;
  desired: DeploymentDesired;
  /**
   * The replicas when this Jupyter server runs the deployment controller; an empty
   * object (no `replicas`) when it does not. Read it with `observedReplicas()`.
   */
  observed?: { replicas?: ObservedReplica[] } | null;
  created_at: EpochMs;
  created_by: string;
  updated_at: EpochMs;
  /** Only in the answer of the POST that created the deployment. */
  token?: string;
  /** Only in `GET deployments` (the list): newest drift and open alert counts. */
  monitoring?: DeploymentMonitoring | null;
}

/** The newest recorded drift report of a deployment, summarised (`GET deployments`). */
export interface DeploymentDriftSummary {
  computed_at: EpochMs;
  /** Share of drifted columns among the tested ones. */
  share: number;
  dataset_drift: boolean;
  /** Rows of the current window. */
  rows: number;
  drifted_columns: string[];
}

/** What `GET deployments` tells about the monitoring of each deployment. */
export interface DeploymentMonitoring {
  drift: DeploymentDriftSummary | null;
  alerts: { firing: number; acknowledged: number };
}

export type DeploymentEventKind =
  | 'deployed'
  | 'updated'
  | 'rolled_back'
  | 'stopped'
  | 'started'
  | 'ready'
  | 'crashed'
  | 'restarted'
  | 'token_rotated';

/** `GET deployments/{name}/events` (newest first). */
export interface DeploymentEvent {
  time: EpochMs;
  kind: DeploymentEventKind | string;
  message: string;
  data: Record<string, any> | null;
}

/**
 * Requests to a deployment in one time bucket (`RequestStats.buckets`). Shadow copies
 * are not counted; an error is a request the worker did not answer with 200.
 */
export interface RequestBucket {
  /** The bucket's start (it lasts `RequestStats.bucket_ms`). */
  start: EpochMs;
  requests: number;
  errors: number;
  /** Requests per second over the bucket. */
  rate: number;
  /** Latency percentiles (ms) of the answered requests; null: none in the bucket. */
  p50_ms: number | null;
  p95_ms: number | null;
}

/** `GET deployments/{name}/stats`: request rate, errors and latency per time bucket. */
export interface RequestStats {
  deployment: string;
  window_seconds: number;
  bucket_ms: number;
  /** The window: `buckets.length` buckets from `start`, the last one ending at `end`. */
  start: EpochMs;
  end: EpochMs;
  requests: number;
  errors: number;
  /** `errors / requests`; null without requests. */
  error_rate: number | null;
  /** Requests per second over the whole window. */
  rate: number;
  /** Requests per second over the window's last minute. */
  recent_rate: number;
  p50_ms: number | null;
  p95_ms: number | null;
  /** How many latencies the percentiles are of. */
  latency_rows: number;
  /** True: the window had more answered requests than the server reads (100,000). */
  sampled: boolean;
  buckets: RequestBucket[];
}

/** The query of `GET deployments/{name}/stats`. */
export interface RequestStatsQuery {
  /** Seconds back from `end`, 60 to 604800 (default 3600). */
  window?: number;
  /** 1 to 240 (default 30). */
  buckets?: number;
  /** The window's end, ms since the epoch (default: now). */
  end?: EpochMs;
}

/** `POST deployments`. */
export interface DeployRequest {
  model: string;
  /** A version number or an alias; the latest version by default. */
  version?: number | string;
  name?: string;
  environment?: DeploymentEnvironment;
  replicas?: number;
  canary?: { version: number | string; percent: number };
  shadow?: number;
}

/** `PATCH deployments/{name}`: a change of the desired state, or a rollback. */
export type DeploymentPatch =
  | {
      traffic?: TrafficSplit[];
      replicas?: number;
      /** A version to mirror requests to, or null to stop shadowing. */
      shadow?: number | null;
    }
  | { rollback: true };

/** The body of `POST deployments/{name}/predict` (one of the three input forms). */
export interface PredictRequest {
  inputs?: Record<string, unknown>[];
  dataframe_split?: { columns: string[]; data: unknown[][] };
  dataframe_records?: Record<string, unknown>[];
  params?: { proba?: boolean; [key: string]: unknown };
}

/** The worker's answer to a prediction request. */
export interface PredictResponse {
  predictions: unknown[];
  probabilities?: unknown[];
  model_version: number;
  request_id: string;
}

/**
 * The drift test of a column: two-sample Kolmogorov-Smirnov and chi-square give a
 * p-value (drift when below the threshold); Wasserstein (normed), Jensen-Shannon and
 * PSI give a distance (drift when at or above it).
 */
export type DriftTest =
  'ks' | 'chisquare' | 'wasserstein' | 'jensenshannon' | 'psi';

/** What a column's values were compared as. */
export type ColumnKind = 'numeric' | 'discrete' | 'categorical';

/**
 * Reference and current shares of a column: per bin of `edges` (numeric; values
 * beyond the outer edges are counted in the outer bins) or per category (the most
 * frequent ones, then `(other N)`).
 */
export type ColumnDistribution =
  | {
      type: 'histogram';
      /** Bin edges, one more than the shares. */
      edges: number[];
      reference: number[];
      current: number[];
      note?: string;
    }
  | {
      type: 'categories';
      labels: string[];
      reference: number[];
      current: number[];
    };

/** The drift of one column, as recorded in the history (no distribution). */
export interface ColumnDriftRecord {
  column: string;
  kind?: ColumnKind | string;
  test: DriftTest | string;
  /** The p-value or distance; null when the column could not be tested (see notes). */
  statistic: number | null;
  threshold: number;
  drifted: boolean;
  psi: number | null;
  psi_significant?: boolean;
  /** Every test on one scale: 1 is the threshold, higher is more severe. */
  score: number;
  notes: string[];
  new_categories?: string[];
}

/** The drift of one column in a computed report. */
export interface ColumnDrift extends ColumnDriftRecord {
  kind: ColumnKind | string;
  psi_significant: boolean;
  reference_values: number;
  current_values: number;
  reference_missing_share: number;
  current_missing_share: number | null;
  new_categories: string[];
  /** When computed from streamed summaries: the exact statistic lies within. */
  bounds: [number, number] | null;
  details: Record<string, number>;
  /** Empty when the column could not be tested. */
  distribution: ColumnDistribution | Record<string, never>;
}

/** The dataset verdict of a drift report. */
export interface DriftSummary {
  dataset_drift: boolean;
  /** Share of drifted columns among the tested ones. */
  share: number;
  drifted: number;
  columns: number;
  tested: number;
  /** Most severe first. */
  drifted_columns: string[];
  psi_significant?: number;
  /** `drift_share`, `psi` and each test's threshold in force. */
  thresholds: Record<string, number>;
  mode: 'exact' | 'streamed' | string;
  reference_rows: number;
  current_rows: number;
}

/** Where the data of a report came from. */
export interface DriftContext {
  deployment: string;
  model: string;
  /** The version whose training data is the reference. */
  version: number;
  window: string | null;
  start: EpochMs | null;
  end: EpochMs | null;
  rows?: number | null;
}

/** `GET` (or `POST`) `monitoring/{name}/drift`. */
export interface DriftReport {
  summary: DriftSummary;
  columns: ColumnDrift[];
  context: DriftContext;
  chunks?: number;
  reference_source?: string;
  extra_columns?: string[];
}

/** The current window of `GET monitoring/{name}/drift`. */
export interface DriftQuery {
  /** `15m`, `1h`, `7d`… (the server's default: 1h). */
  window?: string;
  /** The newest N logged rows instead of a time window. */
  rows?: number;
  start?: EpochMs;
  end?: EpochMs;
  /** Record the report in the drift history (a POST; default: compute only). */
  store?: boolean;
}

/** A recorded drift report (`GET monitoring/{name}/drift/history`). */
export interface DriftHistoryEntry {
  computed_at: EpochMs;
  version: number;
  window_start: EpochMs | null;
  window_end: EpochMs | null;
  rows: number;
  share: number;
  dataset_drift: boolean;
  columns: ColumnDriftRecord[];
}

/**
 * Metrics of labelled predictions of one version in one time bucket
 * (`GET monitoring/{name}/performance`): accuracy and macro F1 for classification,
 * RMSE and MAE for regression.
 */
export interface PerformancePoint {
  bucket_start: EpochMs | null;
  version: number;
  shadow: boolean;
  rows: number;
  accuracy?: number | null;
  f1?: number | null;
  rmse?: number | null;
  mae?: number | null;
}

/** The query of `GET monitoring/{name}/performance`. */
export interface PerformanceQuery {
  /** The server's default: 7d. */
  window?: string;
  bucket?: string;
  task?: 'classification' | 'regression';
  start?: EpochMs;
  end?: EpochMs;
}

/** The answer of `POST deployments/{name}/feedback`. */
export interface FeedbackResult {
  stored: number;
  /** How many request ids are in the prediction log already. */
  matched: number;
}

/** What an alert rule watches. */
export type AlertKind =
  'drift_share' | 'column_drift' | 'metric' | 'latency_p99' | 'error_rate';

export type AlertStatus = 'firing' | 'acknowledged' | 'resolved';

/** The `retrain` action of a rule: run the training notebook again with papermill. */
export interface RetrainAction {
  type: 'retrain';
  /** Papermill parameters of the training notebook. */
  parameters: Record<string, unknown>;
  /** The notebook to run (default: the one stored on the serving version's run). */
  notebook?: string;
  /** The registered model of the candidate (default: the deployment's model). */
  register_as?: string;
  /** Validate on a dataset instead of the labelled live traffic. */
  validate?: { dataset: string; target?: string };
  cwd?: string;
}

/**
 * An alert rule of a deployment (`GET/PUT monitoring/{name}/rules`). It fires when:
 * drift share ≥ threshold; the column drifted (its test's own threshold);
 * accuracy/F1 below or RMSE/MAE above the threshold; p99 latency (ms) above; the
 * share of refused requests above.
 */
export interface AlertRule {
  /** Set by the server (kept when a PUT sends it back). */
  id?: string;
  kind: AlertKind | string;
  threshold?: number;
  /** `1h` by default. */
  window?: string;
  /** Quiet time after an alert resolved, `30m` by default. */
  cooldown?: string;
  /** Drift rules: the newest N rows instead of a time window. */
  rows?: number;
  /** `column_drift`. */
  column?: string;
  /** `metric`. */
  metric?: 'accuracy' | 'f1' | 'rmse' | 'mae' | string;
  /** `metric`: the fewest labelled rows to judge (30). */
  min_rows?: number;
  /** A public http(s) URL the new alert is posted to. */
  webhook?: string;
  action?: RetrainAction;
  name?: string;
}

/** The outcome of posting an alert to its rule's webhook. */
export interface WebhookOutcome {
  ok: boolean;
  status?: number;
  error?: string;
}

/** How the candidate of a retraining was validated. */
export interface RetrainValidation {
  /** What it was validated on, e.g. `labelled live traffic (42 rows)`. */
  on: string;
  /** Null when it could not be validated (see `note`). */
  passed: boolean | null;
  note?: string;
}

/** The `retrain` action's progress and outcome, on the alert. */
export interface RetrainOutcome {
  status: 'queued' | 'running' | 'succeeded' | 'failed' | string;
  run_id?: string;
  model?: string;
  candidate_version?: number;
  validation?: RetrainValidation;
  /** Where papermill wrote the executed notebook (a path on the server). */
  output_notebook?: string;
  error?: string;
  started_at?: EpochMs;
  seconds?: number;
}

/** An alert (`GET alerts`): firing → acknowledged → resolved. */
export interface Alert {
  id: string;
  deployment: string;
  rule_id: string;
  kind: AlertKind | string;
  status: AlertStatus | string;
  message: string;
  /** The measured value (share, statistic, metric, ms, rate); null when unknown. */
  value: number | null;
  threshold: number | null;
  fired_at: EpochMs;
  updated_at: EpochMs;
  acknowledged_at: EpochMs | null;
  acknowledged_by: string | null;
  resolved_at: EpochMs | null;
  data: {
    rule?: AlertRule;
    webhook?: WebhookOutcome;
    retrain?: RetrainOutcome;
    [key: string]: unknown;
  };
}

/** The query of `GET alerts`. */
export interface AlertsQuery {
  deployment?: string;
  /** `open` = firing or acknowledged. */
  status?: AlertStatus | 'open';
  /** The server's default: 200. */
  limit?: number;
}

/** A role, from least to most allowed. */
export type Role = 'viewer' | 'contributor' | 'approver' | 'admin';

/** What the caller's role allows (`GET me`). */
export interface Capabilities {
  track: boolean;
  register: boolean;
  deploy_staging: boolean;
  deploy_production: boolean;
  request_promotion: boolean;
  approve: boolean;
  admin: boolean;
}

/** The acting user of this session (`GET me`). */
export interface Me {
  user: string;
  role: Role | string;
  can: Capabilities;
}

/** A user known to the server (`GET users`). */
export interface GovernanceUser {
  name: string;
  role: Role | string;
  created_at: EpochMs;
  granted_by: string | null;
  granted_at: EpochMs | null;
}

export type PromotionStatus = 'pending' | 'approved' | 'rejected' | 'cancelled';

/** One approver's decision on a promotion request. */
export interface PromotionDecision {
  user: string;
  decision: 'approve' | 'reject' | string;
  comment: string;
  at: EpochMs;
}

/** A request to point an alias (`production`) at a version, four-eyes approved. */
export interface Promotion {
  id: string;
  model: string;
  version: number;
  alias: string;
  requester: string;
  comment: string;
  status: PromotionStatus | string;
  created_at: EpochMs;
  decided_at: EpochMs | null;
  required_approvals: number;
  approvals: number;
  /** Whether the model's policy lets the requester approve their own request. */
  self_approval: boolean;
  decisions: PromotionDecision[];
}

/** One rule of the validation report a promotion request carries. */
export interface PromotionRuleResult {
  rule: string;
  passed: boolean;
  value: number | null;
  threshold: number | null;
  detail: string;
}

/** The latest validation report of the candidate version. */
export interface PromotionValidation {
  passed: boolean;
  created_at: EpochMs;
  results: PromotionRuleResult[];
}

/** A metric of the candidate beside the current production version's. */
export interface MetricDiff {
  metric: string;
  candidate: number | null;
  production: number | null;
  delta: number | null;
}

/** `GET promotions/{id}`: the request with what an approver needs to decide. */
export interface PromotionDetail extends Promotion {
  validation: PromotionValidation | null;
  production_version: number | null;
  metrics_diff: MetricDiff[];
}

/** The query of `GET promotions`. */
export interface PromotionsQuery {
  status?: PromotionStatus;
  model?: string;
  /** The server's default: 100. */
  limit?: number;
}

/** `GET/PUT models/{name}/policy`. */
export interface ModelPolicy {
  required_approvals: number;
  allow_self_approval: boolean;
}

/** `GET/PUT models/{name}/permissions` (empty lists: open to every role holder). */
export interface ResourcePermissions {
  /** Sent only to transfer the ownership. */
  owner?: string;
  readers: string[];
  writers: string[];
}

/** An entry of the append-only, hash-chained audit trail. */
export interface AuditEvent {
  seq: number;
  time: EpochMs;
  actor: string;
  /** `alias.set`, `promotion.approve`, `run.create`… */
  action: string;
  target_type: string;
  target: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
}

/** What `GET audit` and `GET audit/export` select. */
export interface AuditFilter {
  actor?: string;
  /** A prefix: `alias` matches `alias.set` and `alias.delete`. */
  action?: string;
  target_type?: string;
  /** A prefix: `cancer` matches `cancer/3`. */
  target?: string;
  since?: EpochMs;
  until?: EpochMs;
}

/** The query of `GET audit`: a filter and a page (`before` = the previous `next`). */
export interface AuditQuery extends AuditFilter {
  limit?: number;
  before?: number;
}

/** `GET audit`: newest first; `next` pages back (null on the last page). */
export interface AuditPage {
  events: AuditEvent[];
  next: number | null;
}

export type AuditProblemKind = 'edited' | 'deleted' | 'reordered' | 'truncated';

/** A break of the hash chain found by `GET audit/verify`. */
export interface AuditProblem {
  seq: number;
  kind: AuditProblemKind | string;
  message: string;
}

/** `GET audit/verify`. */
export interface AuditVerification {
  ok: boolean;
  events: number;
  head: { seq: number; hash: string } | null;
  problems: AuditProblem[];
}

export type AuditExportFormat = 'csv' | 'json';

/** A downloaded export of the audit trail. */
export interface AuditExport {
  blob: Blob;
  /** From `Content-Disposition`, else `audit.<format>`. */
  filename: string;
}

/**
 * `GET models/{name}/versions/{ref}/card?format=`: `html` is a sanitized,
 * self-contained fragment (shown in a sandboxed iframe, never as innerHTML).
 */
export interface ModelCard {
  markdown?: string;
  html?: string;
  /** Sent by servers that also return the editable field. */
  intended_use?: string | null;
}

/** The drop of the score when one feature is shuffled (permutation importance). */
export interface FeatureImportance {
  feature: string;
  mean: number;
  std: number;
}

/** The average prediction along one feature's grid (a partial dependence curve). */
export interface PartialDependence {
  feature: string;
  kind: 'numeric' | 'categorical' | string;
  grid: (number | string)[];
  average: number[];
}

/** Per-row contributions of each feature to what `target` names. */
export interface LocalExplanation {
  features: string[];
  base_value: number;
  rows: {
    index: number | string;
    prediction: number;
    values: unknown[];
    contributions: number[];
  }[];
}

/**
 * An explanation stored on a model version, as listed
 * (`GET models/{name}/versions/{v}/explanations`): no figures, local values or
 * partial dependence.
 */
export interface ExplanationSummary {
  id: string;
  model: string;
  version: number;
  created_at: EpochMs;
  created_by: string;
  task: 'classification' | 'regression' | string;
  /** What permutation importance measured the drop of (e.g. `accuracy`). */
  scoring: string;
  /** Rows of data explained. */
  rows: number;
  data_fingerprint: string;
  /** `shap.TreeExplainer`, `shap.LinearExplainer`, `occlusion`, … */
  local_method: string;
  /** What the per-row values explain (`probability of class 'malignant'`). */
  target: string;
  /** Descending by mean. */
  importance: FeatureImportance[];
  background?: { features: string[]; values: unknown[] } | null;
}

/** An explanation in full (`GET …/explanations/{id|latest}`). */
export interface Explanation extends ExplanationSummary {
  partial_dependence: PartialDependence[];
  local: LocalExplanation | null;
  /** Plotly figures as stored: `importance`, `partial_dependence`, `local`. */
  figures: Record<string, { data?: unknown[]; layout?: Record<string, any> }>;
}

/**
 * The query parameters of an audit filter (`actor`, `action`, `target_type`,
 * `target`, `since`, `until`), trimmed; empty values are left out.
 */
export function auditFilterParams(
  filter: AuditFilter
): Record<string, string | number | undefined> {
  const text = (value: string | undefined) => value?.trim() || undefined;
  const time = (value: number | undefined) =>
    value !== undefined && Number.isFinite(value)
      ? Math.round(value)
      : undefined;
  return {
    actor: text(filter.actor),
    action: text(filter.action),
    target_type: text(filter.target_type),
    target: text(filter.target),
    since: time(filter.since),
    until: time(filter.until)
  };
}

/** The file name of a `Content-Disposition: attachment; filename="x"` header. */
export function dispositionFilename(
  header: string | null | undefined
): string | null {
  if (!header) {
    return null;
  }
  const star = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
    } catch {
      // fall through to the plain parameter
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/i.exec(header);
  if (!plain) {
    return null;
  }
  const name = (plain[2] ?? plain[1]).trim();
  return name || null;
}

/** What a schedule runs: a notebook (papermill) or a pipeline (YAML), by its path
 * relative to the Jupyter root (the file browser's paths). */
export interface ScheduleTarget {
  kind: 'notebook' | 'pipeline' | string;
  path: string;
}

export type ScheduleFiringStatus =
  'running' | 'succeeded' | 'failed' | 'missed';

/** One firing of a schedule (newest first in `ScheduleDetail.history`). */
export interface ScheduleFiring {
  id: string;
  schedule_id: string;
  /** When the cron expression said it should run. */
  scheduled_for: EpochMs;
  started_at: EpochMs | null;
  ended_at: EpochMs | null;
  status: ScheduleFiringStatus | string;
  /** `catch-up`: fired late for a time missed while the server was down. */
  trigger: 'cron' | 'manual' | 'catch-up' | string;
  run_id: string | null;
  error: string | null;
}

/** A cron schedule of a notebook or a pipeline (`GET schedules`). */
export interface Schedule {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  /** The cron expression in words, e.g. `At 02:00 every day`. */
  description: string;
  target: ScheduleTarget;
  parameters: Record<string, unknown>;
  experiment: string | null;
  paused: boolean;
  created_by: string;
  created_at: EpochMs;
  updated_at: EpochMs;
  /** Null when paused. */
  next_run_at: EpochMs | null;
  last: ScheduleFiring | null;
  /** Firings recorded as missed (the server was down) among the last 50. */
  missed: number;
  /** A firing of it is running now. */
  running: boolean;
}

/** `GET schedules/{ref}`: the schedule with its firings, newest first. */
export interface ScheduleDetail extends Schedule {
  history: ScheduleFiring[];
}

/** The body of `POST schedules`. */
export interface ScheduleRequest {
  name: string;
  cron: string;
  target: ScheduleTarget;
  parameters?: Record<string, unknown>;
  experiment?: string | null;
  timezone?: string;
  paused?: boolean;
}

/** The body of `PATCH schedules/{ref}`: any subset of the fields. */
export type SchedulePatch = Partial<
  Pick<
    Schedule,
    | 'name'
    | 'cron'
    | 'timezone'
    | 'parameters'
    | 'experiment'
    | 'paused'
    | 'target'
  >
>;

/** `POST schedules/preview`: a cron expression in words and its next fire times. */
export interface SchedulePreview {
  cron: string;
  timezone: string;
  description: string;
  next: EpochMs[];
}

/**
 * The query of `GET runs`.
 */
export interface RunsQuery {
  /** Experiment id or name; omitted = all experiments. */
  experiment?: string;
  filter?: string;
  order_by?: string;
  limit?: number;
  page_token?: string;
  /** Also count every matching run (`RunsPage.total`). */
  count?: boolean;
}

/**
 * The JSON body of every error answer of the API.
 */
export interface ApiError {
  error: string;
  message: string;
  /** 0-based character offset in the filter string (on `bad_filter`). */
  position?: number;
}

/**
 * An error of the mlops REST API (or of the network, with `status` 0).
 */
export class MlopsApiError extends Error implements ApiError {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly position?: number,
    /** The parsed JSON body of the answer, when it had one (e.g. `problems`). */
    readonly body?: Record<string, unknown>
  ) {
    super(message);
    this.name = 'MlopsApiError';
  }

  /** The body's `problems` (each mismatch of a `schema_mismatch`), else empty. */
  get problems(): string[] {
    const problems = this.body?.problems;
    return Array.isArray(problems) ? problems.map(p => String(p)) : [];
  }

  /** The input field a 400 names (e.g. `threshold`), when it names one. */
  get field(): string | undefined {
    const field = this.body?.field;
    return typeof field === 'string' && field ? field : undefined;
  }

  /** The role a 403 `permission_denied` says the action needs (e.g. `approver`). */
  get needed(): string | undefined {
    const needed = this.body?.needed;
    return typeof needed === 'string' && needed ? needed : undefined;
  }

  /** True when the server extension is not there (route unknown or server unreachable). */
  get isUnavailable(): boolean {
    return (
      this.status === 0 || (this.status === 404 && this.error !== 'not_found')
    );
  }
}

/**
 * Build a query string from defined, non-empty values: `?a=1&b=x%20y`.
 */
export function buildQuery(
  params: Record<string, string | number | undefined | null>
): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    parts.push(
      `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`
    );
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * Turn a non-OK response into an `MlopsApiError`, reading the `{"error","message"}` body
 * when there is one (Jupyter's own 403/404 answers are HTML or `{"message","reason"}`).
 */
export async function errorFromResponse(
  response: Response
): Promise<MlopsApiError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // ignore: no body
  }
  let body: Partial<ApiError> & { reason?: string } = {};
  let parsed: Record<string, unknown> | undefined;
  try {
    const value: unknown = text ? JSON.parse(text) : undefined;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      parsed = value as Record<string, unknown>;
      body = parsed;
    }
  } catch {
    // not JSON (an HTML error page, a proxy's text): keep the status text
  }
  const code =
    typeof body.error === 'string' && body.error
      ? body.error
      : `http_${response.status}`;
  const message =
    (typeof body.message === 'string' && body.message) ||
    (typeof body.reason === 'string' && body.reason) ||
    response.statusText ||
    `HTTP ${response.status}`;
  const position =
    typeof body.position === 'number' ? body.position : undefined;
  return new MlopsApiError(response.status, code, message, position, parsed);
}

/**
 * The request function, `ServerConnection.makeRequest` by default (replaceable in tests).
 */
export type MakeRequest = (
  url: string,
  init: RequestInit,
  settings: ServerConnection.ISettings
) => Promise<Response>;

/**
 * The REST client.
 */
export class MlopsClient {
  constructor(options: MlopsClient.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._makeRequest =
      options.makeRequest ??
      ((url, init, settings) =>
        ServerConnection.makeRequest(url, init, settings));
  }

  readonly serverSettings: ServerConnection.ISettings;

  /** The full URL of an API path, e.g. `url('runs', id)`. */
  url(...parts: string[]): string {
    return URLExt.join(
      this.serverSettings.baseUrl,
      'mlops/api',
      ...parts.map(p => encodeURIComponent(p))
    );
  }

  /** The download URL of an artifact: `GET runs/{run_id}/artifacts/{path}`. */
  artifactUrl(runId: string, path: string): string {
    return URLExt.join(
      this.url('runs', runId, 'artifacts'),
      ...path.split('/').map(p => encodeURIComponent(p))
    );
  }

  /**
   * The `manifest.json` of a model folder stored in a run
   * (`GET runs/{run_id}/artifacts/{model_path}/manifest.json`).
   */
  modelManifest(runId: string, modelPath: string): Promise<ModelManifest> {
    return this._get<ModelManifest>(
      this.artifactUrl(runId, `${modelPath.replace(/\/+$/, '')}/manifest.json`)
    );
  }

  /** `GET version` */
  version(): Promise<VersionInfo> {
    return this._get<VersionInfo>(this.url('version'));
  }

  /** `GET experiments` */
  async experiments(): Promise<Experiment[]> {
    const answer = await this._get<{ experiments: Experiment[] }>(
      this.url('experiments')
    );
    return answer.experiments ?? [];
  }

  /** `GET experiments/{ref}/keys`: what a filter or a column can name. */
  async experimentKeys(ref: string): Promise<ExperimentKeys> {
    const answer = await this._get<Partial<ExperimentKeys>>(
      this.url('experiments', ref, 'keys')
    );
    return {
      params: answer.params ?? [],
      metrics: answer.metrics ?? [],
      tags: answer.tags ?? []
    };
  }

  /** `GET runs?experiment=&filter=&order_by=&limit=&page_token=&count=` */
  async runs(query: RunsQuery = {}): Promise<RunsPage> {
    const answer = await this._get<RunsPage>(
      this.url('runs') +
        buildQuery({
          experiment: query.experiment,
          filter: query.filter?.trim(),
          order_by: query.order_by,
          limit: query.limit,
          page_token: query.page_token,
          count: query.count ? 'true' : undefined
        })
    );
    const page: RunsPage = {
      runs: answer.runs ?? [],
      next_page_token: answer.next_page_token ?? null
    };
    if (typeof answer.total === 'number') {
      page.total = answer.total;
    }
    return page;
  }

  /** `GET runs/{run_id}` */
  run(runId: string): Promise<RunDetail> {
    return this._get<RunDetail>(this.url('runs', runId));
  }

  /** `GET runs/{run_id}/metrics/{key}` */
  metricHistory(runId: string, key: string): Promise<MetricHistory> {
    return this._get<MetricHistory>(this.url('runs', runId, 'metrics', key));
  }

  /**
   * `GET runs/{run_id}/notebook?format=html&artifact=`: the notebook the run stored
   * when it started (or, with `artifact`, the notebook artifact at that path, e.g.
   * papermill's `output/<name>.ipynb`), as a script-free HTML document (for an
   * iframe with `sandbox=""`). A run without that notebook throws `MlopsApiError`
   * 404 `not_found`.
   */
  async runNotebookHtml(
    runId: string,
    artifact?: string | null
  ): Promise<string> {
    const answer = await this._get<{ html?: string }>(
      this.url('runs', runId, 'notebook') +
        buildQuery({ format: 'html', artifact })
    );
    return answer.html ?? '';
  }

  /** A JSON artifact of a run (`GET runs/{run_id}/artifacts/{path}`), parsed. */
  runArtifactJson<T = unknown>(runId: string, path: string): Promise<T> {
    return this._get<T>(this.artifactUrl(runId, path));
  }

  /** `GET schedules` (sorted by name). */
  async listSchedules(): Promise<Schedule[]> {
    const answer = await this._get<{ schedules: Schedule[] }>(
      this.url('schedules')
    );
    return answer.schedules ?? [];
  }

  /** `GET schedules/{ref}?limit=`: the schedule (id or name) and its firings. */
  async getSchedule(ref: string, limit?: number): Promise<ScheduleDetail> {
    const answer = await this._get<ScheduleDetail>(
      this.url('schedules', ref) + buildQuery({ limit })
    );
    return { ...answer, history: answer.history ?? [] };
  }

  /**
   * `POST schedules` (201). A bad field rejects with a 400 whose message and
   * `field` name the problem.
   */
  createSchedule(request: ScheduleRequest): Promise<Schedule> {
    return this._request<Schedule>('POST', this.url('schedules'), request);
  }

  /** `PATCH schedules/{ref}`: any subset of the fields (`{paused}` pauses or resumes). */
  patchSchedule(ref: string, patch: SchedulePatch): Promise<Schedule> {
    return this._request<Schedule>('PATCH', this.url('schedules', ref), patch);
  }

  /** `DELETE schedules/{ref}`; the id of the deleted schedule. */
  async deleteSchedule(ref: string): Promise<string> {
    const answer = await this._request<{ deleted?: string } | undefined>(
      'DELETE',
      this.url('schedules', ref)
    );
    return answer?.deleted ?? ref;
  }

  /** `POST schedules/{ref}/run` (202): a manual firing now, status `running`. */
  runSchedule(ref: string): Promise<ScheduleFiring> {
    return this._request<ScheduleFiring>(
      'POST',
      this.url('schedules', ref, 'run')
    );
  }

  /**
   * `POST schedules/preview`: the expression in words and its next `count` fire
   * times; a bad expression or timezone rejects with a 400 naming the problem.
   */
  previewSchedule(
    cron: string,
    timezone?: string,
    count?: number
  ): Promise<SchedulePreview> {
    return this._request<SchedulePreview>(
      'POST',
      this.url('schedules', 'preview'),
      { cron, timezone, count }
    );
  }

  /** `GET models` */
  async listModels(): Promise<RegisteredModel[]> {
    const answer = await this._get<{ models: RegisteredModel[] }>(
      this.url('models')
    );
    return answer.models ?? [];
  }

  /** `GET models/{name}` */
  getModel(name: string): Promise<RegisteredModel> {
    return this._get<RegisteredModel>(this.url('models', name));
  }

  /** `GET models/{name}/versions?include_archived=` (newest first) */
  async listVersions(
    name: string,
    includeArchived = false
  ): Promise<ModelVersion[]> {
    const answer = await this._get<{ versions: ModelVersion[] }>(
      this.url('models', name, 'versions') +
        buildQuery({ include_archived: includeArchived ? 'true' : undefined })
    );
    return answer.versions ?? [];
  }

  /**
   * `POST models/{name}/versions {run_id, model_path}`: register the model a run
   * logged (at `modelPath`, default `model`) as the next version of `name`.
   */
  registerModel(
    name: string,
    runId: string,
    modelPath = 'model'
  ): Promise<ModelVersion> {
    return this._request<ModelVersion>(
      'POST',
      this.url('models', name, 'versions'),
      { run_id: runId, model_path: modelPath }
    );
  }

  /** `GET models/{name}/versions/{v}`; `v` is a version number or an alias. */
  getVersion(name: string, version: number | string): Promise<ModelVersion> {
    return this._get<ModelVersion>(
      this.url('models', name, 'versions', String(version))
    );
  }

  /** `PATCH models/{name}/versions/{v}` */
  patchVersion(
    name: string,
    version: number | string,
    patch: ModelVersionPatch
  ): Promise<ModelVersion> {
    return this._request<ModelVersion>(
      'PATCH',
      this.url('models', name, 'versions', String(version)),
      patch
    );
  }

  /**
   * `PUT models/{name}/aliases/{alias}`. Setting `production` on a version whose latest
   * validation failed (or is missing) rejects with a 422 `invalid` naming the rules.
   */
  setAlias(
    name: string,
    alias: string,
    version: number
  ): Promise<AliasAssignment> {
    return this._request<AliasAssignment>(
      'PUT',
      this.url('models', name, 'aliases', alias),
      { version }
    );
  }

  /** `DELETE models/{name}/aliases/{alias}` (204) */
  async deleteAlias(name: string, alias: string): Promise<void> {
    await this._request<unknown>(
      'DELETE',
      this.url('models', name, 'aliases', alias)
    );
  }

  /** `GET models/{name}/versions/{v}/lineage` */
  getLineage(name: string, version: number | string): Promise<Lineage> {
    return this._get<Lineage>(
      this.url('models', name, 'versions', String(version), 'lineage')
    );
  }

  /** `GET models/{name}/versions/{v}/validations` (newest first) */
  async listValidations(
    name: string,
    version: number | string
  ): Promise<ValidationReport[]> {
    const answer = await this._get<{ validations: ValidationReport[] }>(
      this.url('models', name, 'versions', String(version), 'validations')
    );
    return answer.validations ?? [];
  }

  /** `GET models/{name}/versions/{v}/explanations` (newest first, no figures) */
  async listExplanations(
    name: string,
    version: number | string
  ): Promise<ExplanationSummary[]> {
    const answer = await this._get<{ explanations: ExplanationSummary[] }>(
      this.url('models', name, 'versions', String(version), 'explanations')
    );
    return answer.explanations ?? [];
  }

  /**
   * `GET models/{name}/versions/{v}/explanations/{id}`; `id` may be `latest`. A
   * version without explanations answers 404 `not_found`.
   */
  getExplanation(
    name: string,
    version: number | string,
    id = 'latest'
  ): Promise<Explanation> {
    return this._get<Explanation>(
      this.url('models', name, 'versions', String(version), 'explanations', id)
    );
  }

  /** `GET deployments` */
  async listDeployments(): Promise<Deployment[]> {
    const answer = await this._get<{ deployments: Deployment[] }>(
      this.url('deployments')
    );
    return answer.deployments ?? [];
  }

  /** `GET deployments/{name}` */
  getDeployment(name: string): Promise<Deployment> {
    return this._get<Deployment>(this.url('deployments', name));
  }

  /** `POST deployments` (201; the answer carries the worker token, once). */
  deploy(request: DeployRequest): Promise<Deployment> {
    return this._request<Deployment>('POST', this.url('deployments'), request);
  }

  /**
   * `PATCH deployments/{name}`: traffic, replicas, shadow, or `{rollback: true}`.
   * Bad weights reject with a 400 `bad_request`; a rule the change breaks (an
   * unusable version, no earlier revision to roll back to) with a 422 `invalid`.
   */
  patchDeployment(name: string, patch: DeploymentPatch): Promise<Deployment> {
    return this._request<Deployment>(
      'PATCH',
      this.url('deployments', name),
      patch
    );
  }

  /** `DELETE deployments/{name}`: stops serving (200, the stopped deployment; the history is kept). */
  stopDeployment(name: string): Promise<Deployment> {
    return this._request<Deployment>('DELETE', this.url('deployments', name));
  }

  /** `GET deployments/{name}/events?limit=` (newest first) */
  async deploymentEvents(
    name: string,
    limit?: number
  ): Promise<DeploymentEvent[]> {
    const answer = await this._get<{ events: DeploymentEvent[] }>(
      this.url('deployments', name, 'events') + buildQuery({ limit })
    );
    return answer.events ?? [];
  }

  /**
   * `GET deployments/{name}/stats?window=&buckets=&end=`: request rate, errors and
   * p50/p95 latency per time bucket (an unknown deployment rejects with a 404, a
   * window or bucket count out of range with a 400).
   */
  deploymentStats(
    name: string,
    query: RequestStatsQuery = {}
  ): Promise<RequestStats> {
    return this._get<RequestStats>(
      this.url('deployments', name, 'stats') +
        buildQuery({
          window: query.window,
          buckets: query.buckets,
          end: query.end
        })
    );
  }

  /**
   * `POST deployments/{name}/predict`: the worker's contract through Jupyter auth.
   * A schema mismatch rejects with a 422 `schema_mismatch` whose `problems` list each
   * mismatch; a stopped or unreachable deployment with a 422 `invalid`.
   */
  predict(name: string, body: PredictRequest): Promise<PredictResponse> {
    return this._request<PredictResponse>(
      'POST',
      this.url('deployments', name, 'predict'),
      body
    );
  }

  /**
   * `GET monitoring/{name}/drift`: drift of the deployment's logged inputs against
   * the training data of the version it serves (computed, not recorded); with
   * `store: true`, `POST monitoring/{name}/drift` computes it and records it in the
   * history. A version without a training dataset rejects with a 422 `invalid` whose
   * message says how to log one.
   */
  drift(name: string, query: DriftQuery = {}): Promise<DriftReport> {
    const url =
      this.url('monitoring', name, 'drift') +
      buildQuery({
        window: query.window,
        rows: query.rows,
        start: query.start,
        end: query.end
      });
    return query.store === true
      ? this._request<DriftReport>('POST', url)
      : this._get<DriftReport>(url);
  }

  /** `GET monitoring/{name}/drift/history?limit=` (newest first) */
  async driftHistory(
    name: string,
    limit?: number
  ): Promise<DriftHistoryEntry[]> {
    const answer = await this._get<{ history: DriftHistoryEntry[] }>(
      this.url('monitoring', name, 'drift', 'history') + buildQuery({ limit })
    );
    return answer.history ?? [];
  }

  /** `GET monitoring/{name}/performance?window=&bucket=&task=` */
  async performance(
    name: string,
    query: PerformanceQuery = {}
  ): Promise<PerformancePoint[]> {
    const answer = await this._get<{ performance: PerformancePoint[] }>(
      this.url('monitoring', name, 'performance') +
        buildQuery({
          window: query.window,
          bucket: query.bucket,
          task: query.task,
          start: query.start,
          end: query.end
        })
    );
    return answer.performance ?? [];
  }

  /**
   * `POST deployments/{name}/feedback`: ground truth by request id (one label per
   * request: a value, or a list for a multi-row request).
   */
  logFeedback(
    name: string,
    requestIds: string[],
    labels: unknown[]
  ): Promise<FeedbackResult> {
    return this._request<FeedbackResult>(
      'POST',
      this.url('deployments', name, 'feedback'),
      { request_ids: requestIds, labels }
    );
  }

  /** `GET alerts?deployment=&status=&limit=` (newest first) */
  async alerts(query: AlertsQuery = {}): Promise<Alert[]> {
    const answer = await this._get<{ alerts: Alert[] }>(
      this.url('alerts') +
        buildQuery({
          deployment: query.deployment,
          status: query.status,
          limit: query.limit
        })
    );
    return answer.alerts ?? [];
  }

  /**
   * `POST alerts/{id}/acknowledge`: firing → acknowledged by the caller (an
   * acknowledged one is answered as is); a resolved alert rejects with a 422.
   */
  acknowledgeAlert(id: string): Promise<Alert> {
    return this._request<Alert>('POST', this.url('alerts', id, 'acknowledge'));
  }

  /** `GET monitoring/{name}/rules` */
  async alertRules(name: string): Promise<AlertRule[]> {
    const answer = await this._get<{ rules: AlertRule[] }>(
      this.url('monitoring', name, 'rules')
    );
    return answer.rules ?? [];
  }

  /**
   * `PUT monitoring/{name}/rules`: replaces every rule (all are checked first: a
   * bad one rejects with a 400 whose message and `field` name the problem, and
   * none is saved). Rules sent back with their `id` keep it.
   */
  async setAlertRules(name: string, rules: AlertRule[]): Promise<AlertRule[]> {
    const answer = await this._request<{ rules: AlertRule[] }>(
      'PUT',
      this.url('monitoring', name, 'rules'),
      { rules }
    );
    return answer?.rules ?? [];
  }

  /**
   * `POST monitoring/{name}/evaluate`: evaluate the rules now; the alerts that
   * fired or resolved (a retrain action continues in the background).
   */
  async evaluateAlerts(name: string): Promise<Alert[]> {
    const answer = await this._request<{ alerts: Alert[] }>(
      'POST',
      this.url('monitoring', name, 'evaluate')
    );
    return answer?.alerts ?? [];
  }

  /**
   * `GET me`: the acting user, their role and what it allows. An answer of another
   * shape (e.g. Jupyter's own `/api/me` identity through a proxy or a test mock)
   * rejects with a `bad_response` error.
   */
  async me(): Promise<Me> {
    const url = this.url('me');
    const answer = await this._get<Partial<Me>>(url);
    if (
      !answer ||
      typeof answer.user !== 'string' ||
      typeof answer.role !== 'string' ||
      typeof answer.can !== 'object' ||
      answer.can === null
    ) {
      throw new MlopsApiError(
        200,
        'bad_response',
        `The server answered ${url} without a user, role and permissions`
      );
    }
    return answer as Me;
  }

  /** `GET users` */
  async users(): Promise<GovernanceUser[]> {
    const answer = await this._get<{ users: GovernanceUser[] }>(
      this.url('users')
    );
    return answer.users ?? [];
  }

  /** `PUT users/{name}` (admin only): grant a role. */
  setUserRole(name: string, role: Role): Promise<GovernanceUser> {
    return this._request<GovernanceUser>('PUT', this.url('users', name), {
      role
    });
  }

  /** `GET promotions?status=&model=&limit=` (newest first) */
  async promotions(query: PromotionsQuery = {}): Promise<Promotion[]> {
    const answer = await this._get<{ promotions: Promotion[] }>(
      this.url('promotions') +
        buildQuery({
          status: query.status,
          model: query.model,
          limit: query.limit
        })
    );
    return answer.promotions ?? [];
  }

  /** `GET promotions/{id}`: with the validation report and the metrics diff. */
  promotion(id: string): Promise<PromotionDetail> {
    return this._get<PromotionDetail>(this.url('promotions', id));
  }

  /**
   * `POST models/{name}/promotions` (201): ask to promote a version to production.
   * A version without a passing validation rejects with a 422; a second pending
   * request for the version with a 409.
   */
  requestPromotion(
    name: string,
    version: number,
    comment: string
  ): Promise<Promotion> {
    return this._request<Promotion>(
      'POST',
      this.url('models', name, 'promotions'),
      { version, comment }
    );
  }

  /**
   * `POST promotions/{id}/approve` (approver+, not the requester unless the
   * model's policy allows it; the comment is required). The alias moves when the
   * approvals reach the required number.
   */
  approvePromotion(id: string, comment: string): Promise<Promotion> {
    return this._request<Promotion>(
      'POST',
      this.url('promotions', id, 'approve'),
      { comment }
    );
  }

  /** `POST promotions/{id}/reject` (approver+; the comment is required). */
  rejectPromotion(id: string, comment: string): Promise<Promotion> {
    return this._request<Promotion>(
      'POST',
      this.url('promotions', id, 'reject'),
      { comment }
    );
  }

  /** `POST promotions/{id}/cancel` (the requester or an admin). */
  cancelPromotion(id: string): Promise<Promotion> {
    return this._request<Promotion>(
      'POST',
      this.url('promotions', id, 'cancel')
    );
  }

  /** `GET models/{name}/policy` */
  modelPolicy(name: string): Promise<ModelPolicy> {
    return this._get<ModelPolicy>(this.url('models', name, 'policy'));
  }

  /** `PUT models/{name}/policy` (admin or the model's owner). */
  setModelPolicy(name: string, policy: ModelPolicy): Promise<ModelPolicy> {
    return this._request<ModelPolicy>(
      'PUT',
      this.url('models', name, 'policy'),
      policy
    );
  }

  /** `GET models/{name}/permissions` or `GET experiments/{id}/permissions` */
  permissions(
    kind: 'models' | 'experiments',
    name: string
  ): Promise<ResourcePermissions> {
    return this._get<ResourcePermissions>(this.url(kind, name, 'permissions'));
  }

  /** `PUT models/{name}/permissions` or `PUT experiments/{id}/permissions` */
  setPermissions(
    kind: 'models' | 'experiments',
    name: string,
    permissions: ResourcePermissions
  ): Promise<ResourcePermissions> {
    return this._request<ResourcePermissions>(
      'PUT',
      this.url(kind, name, 'permissions'),
      permissions
    );
  }

  /** `GET audit?actor=&action=&target_type=&target=&since=&until=&limit=&before=` */
  async audit(query: AuditQuery = {}): Promise<AuditPage> {
    const answer = await this._get<AuditPage>(
      this.url('audit') +
        buildQuery({
          ...auditFilterParams(query),
          limit: query.limit,
          before: query.before
        })
    );
    return { events: answer.events ?? [], next: answer.next ?? null };
  }

  /** The URL of `GET audit/export?format=&<filter>` (a CSV or JSON download). */
  auditExportUrl(format: AuditExportFormat, filter: AuditFilter = {}): string {
    return (
      this.url('audit', 'export') +
      buildQuery({ format, ...auditFilterParams(filter) })
    );
  }

  /**
   * Download `GET audit/export` through the server connection (token and XSRF
   * headers included), as a blob to save.
   */
  async exportAudit(
    format: AuditExportFormat,
    filter: AuditFilter = {}
  ): Promise<AuditExport> {
    const response = await this._send(
      'GET',
      this.auditExportUrl(format, filter)
    );
    const blob = await response.blob();
    const filename =
      dispositionFilename(response.headers.get('Content-Disposition')) ??
      `audit.${format}`;
    return { blob, filename };
  }

  /** `GET audit/verify`: check the whole hash chain. */
  verifyAudit(): Promise<AuditVerification> {
    return this._get<AuditVerification>(this.url('audit', 'verify'));
  }

  /** `GET models/{name}/versions/{ref}/card?format=html|markdown` */
  modelCard(
    name: string,
    version: number | string,
    format: 'html' | 'markdown' = 'html'
  ): Promise<ModelCard> {
    return this._get<ModelCard>(
      this.url('models', name, 'versions', String(version), 'card') +
        buildQuery({ format })
    );
  }

  /** `PUT models/{name}/versions/{ref}/card`: the card's intended use. */
  setIntendedUse(
    name: string,
    version: number | string,
    intendedUse: string
  ): Promise<{ intended_use: string }> {
    return this._request<{ intended_use: string }>(
      'PUT',
      this.url('models', name, 'versions', String(version), 'card'),
      { intended_use: intendedUse }
    );
  }

  private _get<T>(url: string): Promise<T> {
    return this._request<T>('GET', url);
  }

  /** Send a request (JSON body when given); an empty answer (204) resolves to `undefined`. */
  private async _request<T>(
    method: string,
    url: string,
    body?: unknown
  ): Promise<T> {
    const response = await this._send(method, url, body);
    const text = await response.text();
    if (!text && (response.status === 204 || method !== 'GET')) {
      return undefined as T;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new MlopsApiError(
        response.status,
        'bad_response',
        `The server answered ${url} with something that is not JSON`
      );
    }
  }

  /** Send a request (JSON body when given); a non-OK answer throws `MlopsApiError`. */
  private async _send(
    method: string,
    url: string,
    body?: unknown
  ): Promise<Response> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    let response: Response;
    try {
      response = await this._makeRequest(url, init, this.serverSettings);
    } catch (reason) {
      const message = reason instanceof Error ? reason.message : String(reason);
      throw new MlopsApiError(
        0,
        'network',
        `Cannot reach the server: ${message}`
      );
    }
    if (!response.ok) {
      throw await errorFromResponse(response);
    }
    return response;
  }

  private _makeRequest: MakeRequest;
}

export namespace MlopsClient {
  export interface IOptions {
    serverSettings?: ServerConnection.ISettings;
    makeRequest?: MakeRequest;
  }
}
