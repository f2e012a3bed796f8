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
    readonly position?: number
  ) {
    super(message);
    this.name = 'MlopsApiError';
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
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = {};
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
  return new MlopsApiError(response.status, code, message, position);
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

  /** `GET runs?experiment=&filter=&order_by=&limit=&page_token=` */
  async runs(query: RunsQuery = {}): Promise<RunsPage> {
    const answer = await this._get<RunsPage>(
      this.url('runs') +
        buildQuery({
          experiment: query.experiment,
          filter: query.filter?.trim(),
          order_by: query.order_by,
          limit: query.limit,
          page_token: query.page_token
        })
    );
    return {
      runs: answer.runs ?? [],
      next_page_token: answer.next_page_token ?? null
    };
  }

  /** `GET runs/{run_id}` */
  run(runId: string): Promise<RunDetail> {
    return this._get<RunDetail>(this.url('runs', runId));
  }

  /** `GET runs/{run_id}/metrics/{key}` */
  metricHistory(runId: string, key: string): Promise<MetricHistory> {
    return this._get<MetricHistory>(this.url('runs', runId, 'metrics', key));
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

  private _get<T>(url: string): Promise<T> {
    return this._request<T>('GET', url);
  }

  /** Send a request (JSON body when given); an empty answer (204) resolves to `undefined`. */
  private async _request<T>(
    method: string,
    url: string,
    body?: unknown
  ): Promise<T> {
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

  private _makeRequest: MakeRequest;
}

export namespace MlopsClient {
  export interface IOptions {
    serverSettings?: ServerConnection.ISettings;
    makeRequest?: MakeRequest;
  }
}
