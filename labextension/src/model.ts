/**
 * The state of the MLOps side panel: server handshake, experiments, runs page,
 * filter and sort, registered models and the versions of the expanded ones.
 * Polls the server; views re-render on `changed`.
 */

import {
  Deployment,
  Experiment,
  MlopsApiError,
  ExperimentKeys,
  MlopsClient,
  ModelVersion,
  RegisteredModel,
  RequestStats,
  Run
} from './client';
import { AlertsModel } from './alertsmodel';
import { AuditModel } from './auditmodel';
import { GovernanceModel } from './governancemodel';
import { SchedulesModel } from './schedulesmodel';
import { DriftBadge, driftBadge } from './drift';
import { mergeFirstPage, orderByParam, sameData, SortState } from './query';
import { FRONTEND_API, FRONTEND_VERSION } from './version';
import { ObservableModel } from './observable';

/** The outcome of the version handshake. */
export type ServerStatus =
  | { kind: 'checking' }
  | { kind: 'ok'; version: string }
  | { kind: 'mismatch'; server: string; frontend: string }
  | { kind: 'missing'; detail: string };

/** An error to show inline under the filter box. */
export interface FilterError {
  message: string;
  position?: number;
  /** The filter text the server rejected. */
  filter: string;
}

const MAX_LIMIT = 1000;

/** Rows fetched per request when the runs table scrolls past the loaded ones. */
const CONTINUATION_PAGE = 1000;

export class MlopsModel extends ObservableModel {
  constructor(options: MlopsModel.IOptions) {
    super();
    this.client = options.client;
    this._pageSize = options.pageSize ?? 50;
    this._isActive = options.isActive ?? (() => true);
    this.alerts = new AlertsModel({
      client: this.client,
      // The deployments' alert counts change too.
      onAcknowledged: () => void this.refreshDeployments(),
      currentUser: options.currentUser
    });
    this.governance = new GovernanceModel({ client: this.client });
    this.audit = new AuditModel({ client: this.client });
    this.schedules = new SchedulesModel({ client: this.client });
    // A request decided (or made) here: aliases may have moved, events were logged.
    this.governance.promotionChanged.connect(() => {
      void this.refreshModels();
      void this.audit.refresh();
    });
    this.setRefreshInterval(options.refreshInterval ?? 5);
  }

  readonly client: MlopsClient;

  /**
   * The open alerts of every deployment (the panel's Alerts section, the icon
   * badge and the notifications); polled even while the panel is hidden.
   */
  readonly alerts: AlertsModel;

  /** The acting user and role, and the promotion requests. */
  readonly governance: GovernanceModel;

  /** The audit trail (the panel's Audit section). */
  readonly audit: AuditModel;

  /** The cron schedules of notebooks and pipelines (the panel's Schedules section). */
  readonly schedules: SchedulesModel;

  /** Emitted whenever any part of the state changes. */
  get server(): ServerStatus {
    return this._server;
  }
  /** `null` until first loaded. */
  get experiments(): Experiment[] | null {
    return this._experiments;
  }
  get selectedExperimentId(): string | null {
    return this._selected;
  }
  get selectedExperiment(): Experiment | null {
    return this._experiments?.find(e => e.id === this._selected) ?? null;
  }
  /** `null` until first loaded for the current experiment/filter/sort. */
  get runs(): Run[] | null {
    return this._runs;
  }
  get hasMore(): boolean {
    return this._nextPageToken !== null;
  }
  /** How many runs match the experiment and filter in all; `null` until counted. */
  get total(): number | null {
    return this._total;
  }
  /** The param/metric/tag keys of the selected experiment's runs (filter and columns). */
  get keys(): ExperimentKeys | null {
    return this._keys;
  }
  /** The runs ticked for comparison, in the order they were ticked. */
  get selectedRunIds(): ReadonlyArray<string> {
    return this._selection;
  }
  isRunSelected(runId: string): boolean {
    return this._selection.includes(runId);
  }
  /** Tick or untick a run for comparison. */
  toggleRunSelected(runId: string): void {
    this._selection = this._selection.includes(runId)
      ? this._selection.filter(id => id !== runId)
      : [...this._selection, runId];
    this._emit();
  }
  /** Untick every run. */
  clearRunSelection(): void {
    if (this._selection.length) {
      this._selection = [];
      this._emit();
    }
  }
  /**
   * The key columns chosen (`metrics.acc`, `params.C`, …); `null` or empty: the
   * table picks the metrics and params that vary most.
   */
  get columns(): ReadonlyArray<string> | null {
    return this._columns;
  }
  /** Set the columns; `persist` also hands them to `onColumnsChanged` (settings). */
  setColumns(columns: ReadonlyArray<string> | null, persist = true): void {
    const next = columns && columns.length ? [...columns] : null;
    if (sameData(next, this._columns)) {
      return;
    }
    this._columns = next;
    this._emit();
    if (persist) {
      this.onColumnsChanged?.(next ?? []);
    }
  }
  /** Called when the column chooser changes the columns (the plugin saves them). */
  onColumnsChanged: ((columns: string[]) => void) | null = null;
  /**
   * The experiment (name or id) selected when the panel opens, if it exists; `null`:
   * the one with the most recent run.
   */
  setDefaultExperiment(ref: string | null): void {
    this._defaultExperiment = ref && ref.trim() ? ref.trim() : null;
  }
  get filter(): string {
    return this._filter;
  }
  get filterError(): FilterError | null {
    return this._filterError;
  }
  /** Any other error of the last refresh. */
  get error(): string | null {
    return this._error;
  }
  get sort(): SortState | null {
    return this._sort;
  }
  get loading(): boolean {
    return this._userLoads > 0;
  }
  get pageSize(): number {
    return this._pageSize;
  }
  /** The run whose detail tab is the current one (highlighted in the table). */
  get currentRunId(): string | null {
    return this._currentRunId;
  }
  setCurrentRun(runId: string | null): void {
    if (runId !== this._currentRunId) {
      this._currentRunId = runId;
      this._emit();
    }
  }
  /** Registered models; `null` until first loaded. */
  get models(): RegisteredModel[] | null {
    return this._models;
  }
  /** Why the models could not be loaded (the rest of the panel still works). */
  get modelsError(): string | null {
    return this._modelsError;
  }
  isModelExpanded(name: string): boolean {
    return this._expandedModels.has(name);
  }
  /** The versions of an expanded model, newest first; `null` while loading. */
  versionsOf(name: string): ModelVersion[] | null {
    return this._versions.get(name) ?? null;
  }
  versionsError(name: string): string | null {
    return this._versionsErrors.get(name) ?? null;
  }
  /** The model version whose tab is the current one (highlighted in the panel). */
  get currentModelVersion(): { name: string; version: number } | null {
    return this._currentModelVersion;
  }
  setCurrentModelVersion(
    current: { name: string; version: number } | null
  ): void {
    if (!sameData(current, this._currentModelVersion)) {
      this._currentModelVersion = current;
      this._emit();
    }
  }

  /** Deployments; `null` until first loaded. */
  get deployments(): Deployment[] | null {
    return this._deployments;
  }
  /** Why the deployments could not be loaded (the rest of the panel still works). */
  get deploymentsError(): string | null {
    return this._deploymentsError;
  }
  /**
   * The drift badge of a deployment: set when its newest recorded drift report
   * found dataset drift.
   */
  driftBadgeOf(name: string): DriftBadge | null {
    const deployment = this._deployments?.find(d => d.name === name);
    return driftBadge(deployment?.monitoring?.drift);
  }
  /**
   * Requests of an active deployment over the last 15 minutes (its row's
   * sparkline); `null` until loaded or when the server cannot tell.
   */
  requestStatsOf(name: string): RequestStats | null {
    return this._requestStats.get(name) ?? null;
  }
  /** The deployment whose tab is the current one (highlighted in the panel). */
  get currentDeployment(): string | null {
    return this._currentDeployment;
  }
  setCurrentDeployment(name: string | null): void {
    if (name !== this._currentDeployment) {
      this._currentDeployment = name;
      this._emit();
    }
  }

  /**
   * Reload the deployments (each with its newest drift summary and open alert
   * counts, in one request); re-renders only when something changed.
   */
  async refreshDeployments(): Promise<void> {
    try {
      const deployments = await this.client.listDeployments();
      const changed =
        !sameData(deployments, this._deployments) ||
        this._deploymentsError !== null;
      this._deployments = deployments;
      this._deploymentsError = null;
      const statsChanged = await this._loadRequestStats(deployments);
      if (changed || statsChanged) {
        this._emit();
      }
    } catch (reason) {
      const message = loadFailure(reason, 'Serving is');
      if (message !== this._deploymentsError) {
        this._deploymentsError = message;
        this._emit();
      }
    }
  }

  /** The request stats of the active deployments; returns whether any changed. */
  private async _loadRequestStats(deployments: Deployment[]): Promise<boolean> {
    const active = deployments.filter(d => d.status === 'active');
    const loaded = await Promise.all(
      active.map(d =>
        this.client
          .deploymentStats(d.name, { window: 900, buckets: 15 })
          .catch(() => null)
      )
    );
    const next = new Map<string, RequestStats>();
    active.forEach((d, i) => {
      const stats = loaded[i];
      if (stats) {
        next.set(d.name, stats);
      }
    });
    // The buckets move with the clock; compare what the row shows.
    const shown = (m: Map<string, RequestStats>) =>
      JSON.stringify(
        Array.from(m.entries()).map(([k, v]) => [
          k,
          v.recent_rate,
          v.buckets.map(b => b.requests)
        ])
      );
    const changed = shown(next) !== shown(this._requestStats);
    this._requestStats = next;
    return changed;
  }

  /** Expand (and load the versions of) a model, or collapse it. */
  async toggleModel(name: string): Promise<void> {
    if (this._expandedModels.has(name)) {
      this._expandedModels.delete(name);
      this._emit();
      return;
    }
    this._expandedModels.add(name);
    this._emit();
    await this._loadVersions(name);
  }

  /**
   * Reload the models and the versions of the expanded ones; one re-render at most,
   * so model rows and version rows never disagree.
   */
  async refreshModels(): Promise<void> {
    let models: RegisteredModel[];
    try {
      models = await this.client.listModels();
    } catch (reason) {
      const message = loadFailure(reason, 'The model registry is');
      if (message !== this._modelsError) {
        this._modelsError = message;
        this._emit();
      }
      return;
    }
    const names = new Set(models.map(m => m.name));
    const loaded = await Promise.all(
      Array.from(this._expandedModels)
        .filter(name => names.has(name))
        .map(name => this._loadVersions(name, false))
    );
    let changed = loaded.some(Boolean);
    if (!sameData(models, this._models)) {
      this._models = models;
      changed = true;
    }
    if (this._modelsError !== null) {
      this._modelsError = null;
      changed = true;
    }
    for (const name of Array.from(this._versions.keys())) {
      if (!names.has(name)) {
        this._versions.delete(name);
        this._versionsErrors.delete(name);
        changed = true;
      }
    }
    if (changed) {
      this._emit();
    }
  }

  setRefreshInterval(seconds: number): void {
    if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
    if (seconds > 0 && !this.isDisposed) {
      this._timer = setInterval(() => {
        if (this._isActive()) {
          void this.refresh();
        } else if (
          this._server.kind === 'ok' ||
          this._server.kind === 'mismatch'
        ) {
          // One small request: the icon badge and notifications stay current.
          void this.alerts.refresh();
        }
      }, seconds * 1000);
    }
  }

  setPageSize(size: number): void {
    const next = Math.max(1, Math.min(MAX_LIMIT, Math.round(size)));
    if (next !== this._pageSize) {
      this._pageSize = next;
      void this.reloadRuns();
    }
  }

  /** Run the handshake and load everything. */
  async start(): Promise<void> {
    await this.refresh();
  }

  /**
   * Refresh the handshake (until it succeeds), the experiments and the loaded runs.
   * Does not clear what is shown, so polling never flickers.
   */
  async refresh(): Promise<void> {
    if (this._refreshing) {
      return this._refreshing;
    }
    this._refreshing = this._refresh().finally(() => {
      this._refreshing = null;
    });
    return this._refreshing;
  }

  selectExperiment(id: string | null): void {
    if (id === this._selected) {
      return;
    }
    this._selected = id;
    this._clearRuns();
    this._filterError = null;
    this._emit();
    void this.reloadRuns();
    void this._loadKeys();
  }

  /** Forget the runs of the previously selected experiment. */
  private _clearRuns(): void {
    this._runs = null;
    this._nextPageToken = null;
    this._total = null;
    this._keys = null;
    this._selection = [];
  }

  /**
   * Apply a filter (server syntax). When the server rejects it, its message stays
   * inline under the filter box and the last accepted filter stays in force.
   */
  async setFilter(filter: string): Promise<void> {
    await this._loadRuns(this._pageSize, true, filter.trim());
  }

  async setSort(sort: SortState | null): Promise<void> {
    this._sort = sort;
    await this.reloadRuns();
  }

  /** Fetch the first page again (after a change of experiment, filter or sort). */
  async reloadRuns(): Promise<void> {
    await this._loadRuns(this._pageSize, true);
  }

  /**
   * Append the next page (the runs table asks when it scrolls near the last loaded
   * row); continuation pages are larger than the first one.
   */
  async loadMore(): Promise<void> {
    if (!this._nextPageToken || !this._runs || this.loading) {
      return;
    }
    const seq = ++this._runsSeq;
    this._userLoads++;
    this._emit();
    try {
      const page = await this.client.runs({
        ...this._runsQuery(),
        limit: Math.min(MAX_LIMIT, Math.max(this._pageSize, CONTINUATION_PAGE)),
        page_token: this._nextPageToken
      });
      if (seq !== this._runsSeq) {
        return;
      }
      const known = new Set(this._runs.map(r => r.id));
      this._runs = [...this._runs, ...page.runs.filter(r => !known.has(r.id))];
      this._nextPageToken = page.next_page_token;
      this._error = null;
    } catch (reason) {
      if (seq === this._runsSeq) {
        this._error = messageOf(reason);
      }
    } finally {
      this._userLoads--;
      this._emit();
    }
  }

  protected onDisposed(): void {
    this.setRefreshInterval(0);
    this.alerts.dispose();
    this.governance.dispose();
    this.audit.dispose();
    this.schedules.dispose();
  }

  private async _refresh(): Promise<void> {
    if (this._server.kind === 'checking' || this._server.kind === 'missing') {
      await this._handshake();
      if (this._server.kind === 'missing') {
        return;
      }
    }
    await Promise.all([
      this._refreshRuns(),
      this.refreshModels(),
      this.refreshDeployments(),
      this.alerts.refresh(),
      this.governance.refresh(),
      this.audit.refresh(),
      this.schedules.refresh()
    ]);
  }

  /** Load the versions of a model; returns whether anything changed. */
  private async _loadVersions(name: string, emit = true): Promise<boolean> {
    let changed = false;
    try {
      const versions = await this.client.listVersions(name);
      if (!this._expandedModels.has(name)) {
        return false;
      }
      changed =
        !sameData(versions, this._versions.get(name)) ||
        this._versionsErrors.has(name);
      this._versions.set(name, versions);
      this._versionsErrors.delete(name);
    } catch (reason) {
      const message = messageOf(reason);
      changed = this._versionsErrors.get(name) !== message;
      this._versionsErrors.set(name, message);
    }
    if (changed && emit) {
      this._emit();
    }
    return changed;
  }

  private async _refreshRuns(): Promise<void> {
    try {
      const experiments = await this.client.experiments();
      let changed = false;
      if (!sameData(experiments, this._experiments)) {
        this._experiments = experiments;
        changed = true;
      }
      if (this._error) {
        this._error = null;
        changed = true;
      }
      const selectedStillThere = experiments.some(e => e.id === this._selected);
      if (!selectedStillThere) {
        const next = pickDefault(experiments, this._defaultExperiment);
        if (next !== this._selected) {
          this._selected = next;
          this._clearRuns();
          changed = true;
        }
      }
      if (changed) {
        this._emit();
      }
    } catch (reason) {
      this._onError(reason);
      return;
    }
    if (this._selected !== null) {
      // The first page again; rows loaded further down stay (mergeFirstPage). A load
      // the user asked for (filter, sort, next page) is not overtaken by a poll.
      const changed =
        this._userLoads === 0 &&
        (await this._loadRuns(this._pageSize, this._runs === null));
      // The keys (a scan of the experiment's runs) only when the runs changed.
      if (changed || this._keys === null) {
        await this._loadKeys();
      }
    }
  }

  private async _handshake(): Promise<void> {
    try {
      const info = await this.client.version();
      const same =
        info.version === FRONTEND_VERSION &&
        (info.api === undefined || info.api === FRONTEND_API);
      this._server = same
        ? { kind: 'ok', version: info.version }
        : {
            kind: 'mismatch',
            server: info.version,
            frontend: FRONTEND_VERSION
          };
    } catch (reason) {
      this._server = { kind: 'missing', detail: messageOf(reason) };
    }
    this._emit();
  }

  /**
   * Load the first `limit` runs. `filter` is a new filter to try (`undefined`: keep
   * the current one); polls (`reset` false) leave a filter error on screen. Returns
   * whether the runs shown changed.
   */
  private async _loadRuns(
    limit: number,
    reset: boolean,
    filter?: string
  ): Promise<boolean> {
    if (this._selected === null) {
      return false;
    }
    const seq = ++this._runsSeq;
    const experiment = this._selected;
    if (reset) {
      // A load the user asked for: polls wait until it is done (never overtake it).
      this._userLoads++;
      this._emit();
    }
    try {
      const page = await this.client.runs({
        ...this._runsQuery(),
        ...(filter !== undefined ? { filter: filter || undefined } : {}),
        limit: Math.min(MAX_LIMIT, limit),
        count: true
      });
      if (seq !== this._runsSeq || experiment !== this._selected) {
        return false;
      }
      // A poll keeps the rows loaded past the first page (and their cursor).
      const runs = reset ? page.runs : mergeFirstPage(this._runs, page.runs);
      const token =
        runs.length > page.runs.length
          ? this._nextPageToken
          : page.next_page_token;
      const total = page.total ?? null;
      const changed =
        reset ||
        this._error !== null ||
        // The rows below the first page are the same objects: compare the page only.
        runs.length !== (this._runs?.length ?? -1) ||
        !sameData(page.runs, this._runs?.slice(0, page.runs.length)) ||
        token !== this._nextPageToken ||
        total !== this._total;
      this._runs = runs;
      this._nextPageToken = token;
      this._total = total;
      if (filter !== undefined) {
        this._filter = filter;
      }
      if (reset) {
        this._filterError = null;
      }
      this._error = null;
      if (changed && !reset) {
        this._emit();
      }
      return changed;
    } catch (reason) {
      if (seq !== this._runsSeq) {
        return false;
      }
      const tried = filter ?? this._filter;
      if (reason instanceof MlopsApiError && reason.error === 'bad_filter') {
        this._filterError = {
          message: reason.message,
          position: reason.position,
          filter: tried
        };
      } else if (reason instanceof MlopsApiError && reason.status === 400) {
        this._filterError = { message: reason.message, filter: tried };
      } else {
        this._onError(reason, false);
      }
      if (!reset) {
        this._emit();
      }
      return false;
    } finally {
      if (reset) {
        this._userLoads--;
        this._emit();
      }
    }
  }

  /** The keys of the selected experiment (filter completion, column chooser). */
  private async _loadKeys(): Promise<void> {
    const experiment = this._selected;
    if (experiment === null) {
      return;
    }
    try {
      const keys = await this.client.experimentKeys(experiment);
      if (experiment === this._selected && !sameData(keys, this._keys)) {
        this._keys = keys;
        this._emit();
      }
    } catch {
      // Completion and the chooser are optional: the table still works without.
    }
  }

  private _runsQuery() {
    return {
      experiment: this._selected ?? undefined,
      filter: this._filter || undefined,
      order_by: orderByParam(this._sort)
    };
  }

  private _onError(reason: unknown, emit = true): void {
    if (reason instanceof MlopsApiError && reason.isUnavailable) {
      this._server = { kind: 'missing', detail: reason.message };
    } else {
      this._error = messageOf(reason);
    }
    if (emit) {
      this._emit();
    }
  }

  private _server: ServerStatus = { kind: 'checking' };
  private _experiments: Experiment[] | null = null;
  private _selected: string | null = null;
  private _runs: Run[] | null = null;
  private _nextPageToken: string | null = null;
  private _total: number | null = null;
  private _keys: ExperimentKeys | null = null;
  private _selection: string[] = [];
  private _columns: string[] | null = null;
  private _defaultExperiment: string | null = null;
  private _filter = '';
  private _filterError: FilterError | null = null;
  private _error: string | null = null;
  private _sort: SortState | null = null;
  /** Runs requests the user asked for that have not answered yet. */
  private _userLoads = 0;
  private _pageSize: number;
  private _isActive: () => boolean;
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _refreshing: Promise<void> | null = null;
  private _runsSeq = 0;
  private _currentRunId: string | null = null;
  private _models: RegisteredModel[] | null = null;
  private _modelsError: string | null = null;
  private _expandedModels = new Set<string>();
  private _versions = new Map<string, ModelVersion[]>();
  private _versionsErrors = new Map<string, string>();
  private _currentModelVersion: { name: string; version: number } | null = null;
  private _deployments: Deployment[] | null = null;
  private _deploymentsError: string | null = null;
  private _currentDeployment: string | null = null;
  private _requestStats = new Map<string, RequestStats>();
}

export namespace MlopsModel {
  export interface IOptions {
    client: MlopsClient;
    pageSize?: number;
    refreshInterval?: number;
    /**
     * Polling is skipped while this returns false (e.g. the panel is hidden),
     * except for the alerts.
     */
    isActive?: () => boolean;
    /** The Jupyter user name of this session. */
    currentUser?: () => string | null;
  }
}

/**
 * The experiment to select by default: `preferred` (a name or id, the
 * `defaultExperiment` setting) when it exists, else the one with the most recent run.
 */
export function pickDefault(
  experiments: Experiment[],
  preferred: string | null = null
): string | null {
  if (!experiments.length) {
    return null;
  }
  if (preferred) {
    const match =
      experiments.find(e => e.id === preferred) ??
      experiments.find(e => e.name === preferred);
    if (match) {
      return match.id;
    }
  }
  const sorted = [...experiments].sort(
    (a, b) =>
      (b.last_run_at ?? b.created_at ?? 0) -
      (a.last_run_at ?? a.created_at ?? 0)
  );
  return sorted[0].id;
}

/**
 * What a failed load says: "<subject> not available on this server (…)." when the
 * server lacks the route (no or an older server extension), else the error's message.
 */
export function loadFailure(reason: unknown, subject: string): string {
  return reason instanceof MlopsApiError && reason.isUnavailable
    ? `${subject} not available on this server (${reason.message}).`
    : messageOf(reason);
}

export function messageOf(reason: unknown): string {
  if (reason instanceof Error) {
    return reason.message;
  }
  return String(reason);
}
