/**
 * The deployment view, shown in a main-area tab (one per deployment): header with
 * status light and endpoint, traffic editor, replicas, rollback/stop, monitoring
 * (drift and performance), live requests (rate and p95 latency sparklines), events
 * and a "Try it" form that sends a prediction through Jupyter auth.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import {
  Deployment,
  DeploymentEvent,
  InputExample,
  MlopsClient,
  ModelSignature,
  RequestStats as RequestStatsData
} from './client';
import {
  EmptyInline,
  ErrorBanner,
  Fact,
  loadErrorMessage,
  NotLoaded,
  PollTimer,
  Section
} from './common';
import {
  ErrorDetail,
  errorDetail,
  eventIcon,
  mainVersion,
  observedReplicas,
  parseTraffic,
  trafficError,
  trafficSummary,
  TryItStart,
  tryItStart
} from './deployments';
import { AlertsModel } from './alertsmodel';
import { formatRelative, formatTime } from './format';
import { allows } from './governance';
import { GovernanceModel } from './governancemodel';
import { messageOf } from './model';
import { MonitoringSection } from './monitoring';
import { MonitoringModel } from './monitoringmodel';
import { RulesModel } from './rulesmodel';
import { EnvironmentBadge, StatusLight } from './panel';
import { sameData } from './query';
import { formatVersion } from './registry';
import { RequestStats } from './sparkline';

/** How many events the tab shows. */
const EVENTS_LIMIT = 50;

/** The Requests block: the last hour in one-minute buckets. */
const STATS_QUERY = { window: 3600, buckets: 60 };

/** The outcome of the last "Try it" request. */
export type TryItResult =
  | {
      ok: true;
      /** The answer, pretty-printed JSON. */
      text: string;
    }
  | {
      ok: false;
      /** The refusal in readable parts (status, code, message, problems). */
      error: ErrorDetail;
    };

export class DeploymentWidget extends ReactWidget {
  constructor(options: DeploymentWidget.IOptions) {
    super();
    this.deploymentName = options.name;
    this._client = options.client;
    this._commands = options.commands;
    this._onChanged = options.onChanged ?? (() => undefined);
    this._timer = new PollTimer(
      () => void this.refresh(),
      options.refreshInterval
    );
    this._governance = options.governance ?? null;
    // The role decides which actions show.
    this._governance?.changed.connect(() => this.update(), this);
    this.addClass('mlops-Deployment');
    this.title.label = `Deployment ${this.deploymentName}`;
    this.monitoring = new MonitoringModel({
      deployment: this.deploymentName,
      client: this._client,
      // A recorded report may change the panel's drift badge.
      onRecorded: () => this._onChanged(this)
    });
    this.monitoring.changed.connect(() => this.update());
    const onAlertsChanged = options.onAlertsChanged ?? (() => undefined);
    this.alerts = new AlertsModel({
      client: this._client,
      deployment: this.deploymentName,
      onAcknowledged: () => onAlertsChanged(this),
      currentUser: options.currentUser
    });
    this.alerts.changed.connect(() => this.update());
    this.rules = new RulesModel({
      deployment: this.deploymentName,
      client: this._client,
      // Alerts may fire or resolve: this tab's list and the panel follow.
      onEvaluated: () => {
        void this.alerts.refresh();
        onAlertsChanged(this);
      }
    });
    this.rules.changed.connect(() => this.update());
    void this.refresh();
  }

  readonly deploymentName: string;

  /** The state of the Monitoring section. */
  readonly monitoring: MonitoringModel;

  /** The deployment's alerts (Monitoring section). */
  readonly alerts: AlertsModel;

  /** The deployment's alert rules (Monitoring section). */
  readonly rules: RulesModel;

  get detail(): Deployment | null {
    return this._detail;
  }

  /** Reload the deployment, its events and request statistics (and the "Try it" example when the main version changed). */
  async refresh(): Promise<void> {
    const name = this.deploymentName;
    // Drift history, performance, alerts and rules follow on their own (errors
    // shown in the section).
    void this.monitoring.refresh();
    void this.alerts.refresh();
    void this.rules.refresh();
    try {
      const [detail, events, stats] = await Promise.all([
        this._client.getDeployment(name),
        this._client
          .deploymentEvents(name, EVENTS_LIMIT)
          .catch((reason: unknown) => messageOf(reason)),
        this._client
          .deploymentStats(name, STATS_QUERY)
          .catch((reason: unknown) => messageOf(reason))
      ]);
      if (this.isDisposed) {
        return;
      }
      const next = {
        detail,
        events: typeof events === 'string' ? this._events : events,
        eventsError: typeof events === 'string' ? events : null,
        stats: typeof stats === 'string' ? this._stats : stats,
        statsError: typeof stats === 'string' ? stats : null
      };
      const changed =
        !sameData(next, {
          detail: this._detail,
          events: this._events,
          eventsError: this._eventsError,
          stats: this._stats,
          statsError: this._statsError
        }) || this._error !== null;
      this._detail = next.detail;
      this._events = next.events;
      this._eventsError = next.eventsError;
      this._stats = next.stats;
      this._statsError = next.statsError;
      this._error = null;
      this.title.caption = `Deployment ${detail.name}: ${detail.model} ${trafficSummary(detail.desired?.traffic)} (${detail.status})`;
      if (changed) {
        this.update();
      }
      void this._loadExample(detail);
    } catch (reason) {
      if (this.isDisposed) {
        return;
      }
      this._error = loadErrorMessage(reason, `Deployment ${name}`);
      this.update();
    }
    this._schedule();
  }

  dispose(): void {
    this._timer.stop();
    this.monitoring.dispose();
    this.alerts.dispose();
    this.rules.dispose();
    super.dispose();
  }

  /** Apply a traffic split (`PATCH`); a refusal (4xx) is shown inline. */
  async applyTraffic(
    traffic: { version: number; weight: number | string }[]
  ): Promise<boolean> {
    const problem = trafficError(traffic);
    if (problem) {
      this._trafficError = problem;
      this.update();
      return false;
    }
    return this._act(
      () =>
        this._client.patchDeployment(this.deploymentName, {
          traffic: parseTraffic(traffic)
        }),
      'traffic'
    );
  }

  /** Return to the previous revision; the server's 422 is shown inline. */
  async rollback(): Promise<boolean> {
    return this._act(
      () =>
        this._client.patchDeployment(this.deploymentName, { rollback: true }),
      'action'
    );
  }

  /** Stop serving (after a confirmation). */
  async stop(confirm = true): Promise<boolean> {
    if (confirm) {
      const answer = await showDialog({
        title: `Stop ${this.deploymentName}?`,
        body: 'Its workers stop; the deployment and its history stay (deploy again to restart).',
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Stop' })]
      });
      if (!answer.button.accept) {
        return false;
      }
    }
    return this._act(
      () => this._client.stopDeployment(this.deploymentName),
      'action'
    );
  }

  /** Send the "Try it" body to `POST deployments/{name}/predict`. */
  async tryIt(text: string): Promise<void> {
    this._tryBody = text;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (reason) {
      this._tryResult = {
        ok: false,
        error: {
          status: 0,
          code: '',
          message: `The request is not valid JSON: ${messageOf(reason)}`,
          problems: []
        }
      };
      this.update();
      return;
    }
    this._sending = true;
    this._tryResult = null;
    this.update();
    try {
      const answer = await this._client.predict(
        this.deploymentName,
        body as any
      );
      this._tryResult = { ok: true, text: JSON.stringify(answer, null, 2) };
    } catch (reason) {
      this._tryResult = { ok: false, error: errorDetail(reason) };
    }
    this._sending = false;
    if (!this.isDisposed) {
      this.update();
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
  }

  private async _act(
    action: () => Promise<unknown>,
    where: 'traffic' | 'action'
  ): Promise<boolean> {
    this._busy = true;
    this._trafficError = null;
    this._actionError = null;
    this.update();
    let ok = false;
    try {
      await action();
      ok = true;
    } catch (reason) {
      if (where === 'traffic') {
        this._trafficError = messageOf(reason);
      } else {
        this._actionError = messageOf(reason);
      }
    }
    this._busy = false;
    this.update();
    if (ok) {
      await this.refresh();
      this._onChanged(this);
    }
    return ok;
  }

  /**
   * Load the main version's input example (from its manifest) and signature once
   * per version, to prefill "Try it".
   */
  private async _loadExample(detail: Deployment): Promise<void> {
    const version = mainVersion(detail.desired?.traffic);
    if (version === null) {
      return;
    }
    const key = `${detail.model}/${version}`;
    if (key === this._exampleKey) {
      return;
    }
    this._exampleKey = key;
    let signature: ModelSignature | null = null;
    let example: InputExample | null = null;
    try {
      const found = await this._client.getVersion(detail.model, version);
      signature = found.signature;
      if (found.run_id) {
        example =
          (await this._client.modelManifest(found.run_id, found.model_path))
            .input_example ?? null;
      }
    } catch {
      // No example: "Try it" starts from the signature, or from an empty row.
    }
    if (this.isDisposed || key !== this._exampleKey) {
      return;
    }
    this._tryStart = tryItStart(example, signature);
    this._tryVersion = version;
    if (!this._tryEdited) {
      this._tryBody = this._tryStart.body;
    }
    this.update();
  }

  /** Poll while the tab is visible. */
  private _schedule(): void {
    this._timer.schedule(!this.isDisposed && this.isVisible);
  }

  protected render(): JSX.Element {
    if (!this._detail) {
      return (
        <NotLoaded error={this._error}>
          Loading deployment {this.deploymentName}…
        </NotLoaded>
      );
    }
    const gov = this._governance;
    const capability =
      this._detail.environment === 'production'
        ? 'deploy_production'
        : 'deploy_staging';
    return (
      <DeploymentView
        canDeploy={gov ? allows(gov.me, gov.meError, capability) : true}
        detail={this._detail}
        monitoring={this.monitoring}
        alerts={this.alerts}
        rules={this.rules}
        events={this._events}
        eventsError={this._eventsError}
        stats={this._stats}
        statsError={this._statsError}
        error={this._error}
        busy={this._busy}
        trafficError={this._trafficError}
        actionError={this._actionError}
        tryStart={this._tryStart}
        tryVersion={this._tryVersion}
        tryBody={this._tryBody}
        tryResult={this._tryResult}
        sending={this._sending}
        onTryBodyChange={text => {
          this._tryBody = text;
          this._tryEdited = true;
          this.update();
        }}
        onTryReset={() => {
          this._tryBody = (this._tryStart ?? tryItStart(null, null)).body;
          this._tryEdited = false;
          this._tryResult = null;
          this.update();
        }}
        onTry={text => void this.tryIt(text)}
        onApplyTraffic={traffic => this.applyTraffic(traffic)}
        onTrafficEdit={() => {
          if (this._trafficError) {
            this._trafficError = null;
            this.update();
          }
        }}
        onRollback={() => void this.rollback()}
        onStop={() => void this.stop()}
        openVersion={version =>
          void this._commands.execute('mlops:open-model-version', {
            name: this._detail!.model,
            version
          })
        }
        openModelVersion={(name, version) =>
          void this._commands.execute('mlops:open-model-version', {
            name,
            version
          })
        }
        openRun={runId =>
          void this._commands.execute('mlops:open-run', { runId })
        }
      />
    );
  }

  private _client: MlopsClient;
  private _commands: CommandRegistry;
  private _onChanged: (widget: DeploymentWidget) => void;
  private _governance: GovernanceModel | null;
  private _timer: PollTimer;
  private _detail: Deployment | null = null;
  private _events: DeploymentEvent[] = [];
  private _eventsError: string | null = null;
  private _stats: RequestStatsData | null = null;
  private _statsError: string | null = null;
  private _error: string | null = null;
  private _busy = false;
  private _trafficError: string | null = null;
  private _actionError: string | null = null;
  private _exampleKey: string | null = null;
  private _tryStart: TryItStart | null = null;
  private _tryVersion: number | null = null;
  private _tryBody = tryItStart(null, null).body;
  private _tryEdited = false;
  private _tryResult: TryItResult | null = null;
  private _sending = false;
}

export namespace DeploymentWidget {
  export interface IOptions {
    name: string;
    client: MlopsClient;
    commands: CommandRegistry;
    /** The polling interval in seconds (0 = off), read at each poll. */
    refreshInterval: () => number;
    /** Called after the traffic, a rollback or a stop changed the deployment. */
    onChanged?: (widget: DeploymentWidget) => void;
    /** Called after an alert was acknowledged or the rules were evaluated here. */
    onAlertsChanged?: (widget: DeploymentWidget) => void;
    /** The Jupyter user name of this session. */
    currentUser?: () => string | null;
    /** The acting user's role: actions it does not allow are hidden. */
    governance?: GovernanceModel | null;
  }
}

function DeploymentView(props: {
  /** The role may change this deployment (traffic, rollback, stop). */
  canDeploy: boolean;
  detail: Deployment;
  monitoring: MonitoringModel;
  alerts: AlertsModel;
  rules: RulesModel;
  events: DeploymentEvent[];
  eventsError: string | null;
  /** Request rate and latency (`GET deployments/{name}/stats`); null until loaded. */
  stats: RequestStatsData | null;
  statsError: string | null;
  error: string | null;
  busy: boolean;
  trafficError: string | null;
  actionError: string | null;
  tryStart: TryItStart | null;
  tryVersion: number | null;
  tryBody: string;
  tryResult: TryItResult | null;
  sending: boolean;
  onTryBodyChange: (text: string) => void;
  onTryReset: () => void;
  onTry: (text: string) => void;
  onApplyTraffic: (
    traffic: { version: number; weight: string }[]
  ) => Promise<boolean>;
  onTrafficEdit: () => void;
  onRollback: () => void;
  onStop: () => void;
  openVersion: (version: number) => void;
  openModelVersion: (name: string, version: number) => void;
  openRun: (runId: string) => void;
}): JSX.Element {
  const d = props.detail;
  const active = d.status === 'active';
  const observed = observedReplicas(d);
  const replicas = observed ?? [];
  const canRollback = d.revision > 1;
  return (
    <div className="mlops-RunDetailBody mlops-DeploymentBody">
      {props.error && <ErrorBanner>{props.error}</ErrorBanner>}
      <header className="mlops-RunHeader">
        <div className="mlops-RunTitleRow">
          <StatusLight deployment={d} />
          <h1 className="mlops-RunTitle mlops-DeploymentTitle">{d.name}</h1>
          <span className={`mlops-DeploymentStatus mlops-dstatus-${d.status}`}>
            {d.status}
          </span>
          <EnvironmentBadge env={d.environment} />
          <span className="mlops-Spacer" />
          {props.canDeploy && (
            <>
              <button
                className="jp-Button jp-mod-styled jp-mod-reject mlops-RollbackButton"
                disabled={props.busy || !canRollback}
                title={
                  canRollback
                    ? `Return to the desired state of revision ${d.revision - 1} (as a new revision)`
                    : 'Nothing to roll back to: this is the first revision'
                }
                onClick={props.onRollback}
              >
                Rollback
              </button>
              <button
                className="jp-Button jp-mod-styled jp-mod-warn mlops-StopButton"
                disabled={props.busy || !active}
                title={
                  active
                    ? 'Stop serving (the deployment and its history stay)'
                    : 'Already stopped'
                }
                onClick={props.onStop}
              >
                Stop
              </button>
            </>
          )}
        </div>
        {props.actionError && (
          <div className="mlops-ActionError mlops-DeploymentError" role="alert">
            {props.actionError}
          </div>
        )}
        <dl className="mlops-RunFacts">
          <Fact label="Model">
            <span className="mlops-DeploymentModel">{d.model}</span>{' '}
            <span className="mlops-Muted">
              {trafficSummary(d.desired?.traffic)}
            </span>
          </Fact>
          <Fact label="Revision">
            <span className="mlops-DeploymentRevision">{d.revision}</span>
          </Fact>
          <Fact label="Endpoint">
            <span className="mlops-Endpoint">
              <code className="mlops-EndpointUrl" title={d.url}>
                {d.url}
              </code>
              <CopyButton text={d.url} />
            </span>
          </Fact>
          <Fact label="Created" title={formatTime(d.created_at)}>
            {formatRelative(d.created_at)} by {d.created_by || '—'}
          </Fact>
          {d.desired?.shadow ? (
            <Fact label="Shadow">{formatVersion(d.desired.shadow)}</Fact>
          ) : null}
        </dl>
      </header>

      <Section title="Requests" className="mlops-RequestsSection">
        <RequestStats stats={props.stats} error={props.statsError} />
      </Section>

      <div className="mlops-Columns">
        <Section title="Traffic" count={d.desired?.traffic?.length ?? 0}>
          <TrafficEditor
            key={`${d.revision}-${JSON.stringify(d.desired?.traffic)}`}
            traffic={d.desired?.traffic ?? []}
            editable={props.canDeploy}
            busy={props.busy}
            error={props.trafficError}
            onApply={props.onApplyTraffic}
            onEdit={props.onTrafficEdit}
            openVersion={props.openVersion}
          />
        </Section>
        <Section
          title="Replicas"
          count={replicas.length}
          className="mlops-ReplicasSection"
        >
          <div className="mlops-Muted mlops-Note mlops-ReplicasDesired">
            desired: {d.desired?.replicas ?? '—'}
          </div>
          {!observed ? (
            <EmptyInline>
              This server does not run the deployment controller.
            </EmptyInline>
          ) : replicas.length ? (
            <table className="mlops-Table mlops-ReplicasTable">
              <thead>
                <tr>
                  <th className="mlops-col-num">#</th>
                  <th className="mlops-col-num">Revision</th>
                  <th className="mlops-col-num">PID</th>
                  <th>Ready</th>
                  <th>Alive</th>
                </tr>
              </thead>
              <tbody>
                {replicas.map(r => (
                  <tr key={`${r.index}-${r.revision}-${r.pid}`}>
                    <td className="mlops-col-num">{r.index}</td>
                    <td className="mlops-col-num">{r.revision}</td>
                    <td className="mlops-col-num">
                      <code>{r.pid ?? '—'}</code>
                    </td>
                    <td>
                      <YesNo value={r.ready} />
                    </td>
                    <td>
                      <YesNo value={r.alive} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <EmptyInline>No replica is running.</EmptyInline>
          )}
        </Section>
      </div>

      <Section title="Monitoring" className="mlops-MonitoringSection">
        <MonitoringSection
          model={props.monitoring}
          alerts={props.alerts}
          rules={props.rules}
          openVersion={props.openVersion}
          openModelVersion={props.openModelVersion}
          openRun={props.openRun}
        />
      </Section>

      <Section title="Try it" className="mlops-TryItSection">
        <TryIt
          active={active}
          start={props.tryStart}
          version={props.tryVersion}
          body={props.tryBody}
          result={props.tryResult}
          sending={props.sending}
          onChange={props.onTryBodyChange}
          onReset={props.onTryReset}
          onSend={props.onTry}
        />
      </Section>

      <Section
        title="Events"
        count={props.events.length}
        className="mlops-EventsSection"
      >
        {props.eventsError && (
          <div className="mlops-FilterError">{props.eventsError}</div>
        )}
        {props.events.length ? (
          <table className="mlops-Table mlops-EventsTable">
            <thead>
              <tr>
                <th>Time</th>
                <th>Event</th>
                <th>Message</th>
              </tr>
            </thead>
            <tbody>
              {props.events.map((e, i) => {
                const icon = eventIcon(e.kind);
                return (
                  <tr
                    key={`${e.time}-${e.kind}-${i}`}
                    className="mlops-EventRow"
                    data-kind={e.kind}
                  >
                    <td className="mlops-EventTime" title={formatTime(e.time)}>
                      {formatTime(e.time)}
                    </td>
                    <td className="mlops-EventKind">
                      <span
                        className={`mlops-EventIcon mlops-tone-${icon.tone}`}
                        aria-hidden="true"
                      >
                        {icon.icon}
                      </span>
                      {e.kind}
                    </td>
                    <td className="mlops-EventMessage" title={e.message}>
                      {e.message}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : (
          !props.eventsError && <EmptyInline>No events.</EmptyInline>
        )}
      </Section>
    </div>
  );
}

/** Copies `text` to the clipboard and says so for a moment. */
function CopyButton({ text }: { text: string }): JSX.Element {
  const [copied, setCopied] = React.useState(false);
  React.useEffect(() => {
    if (!copied) {
      return;
    }
    const timer = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <button
      className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-CopyButton"
      title="Copy the endpoint URL (it needs the deployment's bearer token)"
      onClick={() => {
        void navigator.clipboard
          ?.writeText(text)
          .then(() => setCopied(true))
          .catch(() => undefined);
      }}
    >
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

function YesNo({ value }: { value: boolean }): JSX.Element {
  return (
    <span className={`mlops-YesNo mlops-mod-${value ? 'yes' : 'no'}`}>
      {value ? '✓ yes' : '✗ no'}
    </span>
  );
}

function TrafficEditor(props: {
  traffic: { version: number; weight: number }[];
  /** False: the split is shown, not editable. */
  editable: boolean;
  busy: boolean;
  error: string | null;
  onApply: (traffic: { version: number; weight: string }[]) => Promise<boolean>;
  onEdit: () => void;
  openVersion: (version: number) => void;
}): JSX.Element {
  const initial = props.traffic.map(t => ({
    version: t.version,
    weight: String(t.weight)
  }));
  const [rows, setRows] = React.useState(initial);
  const [added, setAdded] = React.useState('');
  const local = trafficError(rows);
  const dirty = !sameData(rows, initial);
  const edit = (next: { version: number; weight: string }[]) => {
    setRows(next);
    props.onEdit();
  };
  const addVersion = () => {
    const version = Number(added.trim().replace(/^v/i, ''));
    if (!Number.isInteger(version) || version < 1) {
      return;
    }
    if (!rows.some(r => r.version === version)) {
      edit([...rows, { version, weight: '0' }]);
    }
    setAdded('');
  };
  const sum = rows.reduce((acc, r) => acc + (Number(r.weight) || 0), 0);
  return (
    <div className="mlops-TrafficEditor">
      <table className="mlops-Table mlops-TrafficTable">
        <thead>
          <tr>
            <th>Version</th>
            <th className="mlops-col-num">Weight %</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={r.version} data-version={r.version}>
              <td>
                <a
                  className="mlops-Link"
                  href="#"
                  title={`Open ${formatVersion(r.version)}`}
                  onClick={ev => {
                    ev.preventDefault();
                    props.openVersion(r.version);
                  }}
                >
                  {formatVersion(r.version)}
                </a>
              </td>
              <td className="mlops-col-num">
                <input
                  className={`mlops-WeightInput jp-mod-styled${local ? ' mlops-mod-invalid' : ''}`}
                  type="number"
                  min={1}
                  max={100}
                  step={1}
                  aria-label={`Weight of ${formatVersion(r.version)}`}
                  value={r.weight}
                  disabled={props.busy || !props.editable}
                  onChange={ev =>
                    edit(
                      rows.map((x, j) =>
                        j === i ? { ...x, weight: ev.target.value } : x
                      )
                    )
                  }
                />
              </td>
              <td>
                {rows.length > 1 && props.editable && (
                  <button
                    className="mlops-AliasRemove mlops-TrafficRemove"
                    title={`Remove ${formatVersion(r.version)} from the split`}
                    aria-label={`Remove ${formatVersion(r.version)}`}
                    disabled={props.busy}
                    onClick={() => edit(rows.filter((_, j) => j !== i))}
                  >
                    ×
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <td className="mlops-Muted">Total</td>
            <td
              className={`mlops-col-num mlops-TrafficSum${sum === 100 ? '' : ' mlops-mod-invalid'}`}
            >
              {sum}%
            </td>
            <td />
          </tr>
        </tfoot>
      </table>
      {props.editable && (
        <div className="mlops-TrafficActions">
          <input
            className="mlops-AliasInput mlops-TrafficAdd jp-mod-styled"
            type="text"
            spellCheck={false}
            placeholder="v2"
            title="A version of the model to add to the split (then give it a weight)"
            aria-label="Version to add to the split"
            value={added}
            disabled={props.busy}
            onChange={ev => setAdded(ev.target.value)}
            onKeyDown={ev => {
              if (ev.key === 'Enter') {
                addVersion();
              }
            }}
          />
          <button
            className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-TrafficAddButton"
            disabled={props.busy || !added.trim()}
            onClick={addVersion}
          >
            Add version
          </button>
          <span className="mlops-Spacer" />
          {dirty && (
            <button
              className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-TrafficReset"
              disabled={props.busy}
              onClick={() => edit(initial)}
            >
              Reset
            </button>
          )}
          <button
            className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton mlops-TrafficApply"
            disabled={props.busy || !dirty || local !== null}
            title={local ?? 'Apply the new split (a new revision)'}
            onClick={() => void props.onApply(rows)}
          >
            Apply
          </button>
        </div>
      )}
      {(local ?? props.error) && (
        <div className="mlops-ActionError mlops-TrafficError" role="alert">
          {local ?? props.error}
        </div>
      )}
    </div>
  );
}

function TryIt(props: {
  active: boolean;
  start: TryItStart | null;
  version: number | null;
  body: string;
  result: TryItResult | null;
  sending: boolean;
  onChange: (text: string) => void;
  onReset: () => void;
  onSend: (text: string) => void;
}): JSX.Element {
  const version = props.version !== null ? formatVersion(props.version) : '';
  const origin = !props.start
    ? ''
    : props.start.source === 'example'
      ? `Starts from the first row of the input example of ${version}.`
      : props.start.source === 'signature'
        ? `Starts from a placeholder per input column of ${version} (${props.start.columns} columns): fill in real values.`
        : `${version} has no signature: fill in the input columns.`;
  return (
    <div className="mlops-TryIt">
      <div className="mlops-Muted mlops-Note">
        Sends a prediction request to this deployment through Jupyter (no token
        needed). {origin} Add{' '}
        <code>
          &quot;params&quot;: {'{'}&quot;proba&quot;: true{'}'}
        </code>{' '}
        for probabilities.
      </div>
      <textarea
        className="mlops-TryItBody jp-mod-styled"
        spellCheck={false}
        aria-label="Prediction request (JSON)"
        rows={Math.min(16, Math.max(4, props.body.split('\n').length))}
        value={props.body}
        onChange={ev => props.onChange(ev.target.value)}
        onKeyDown={ev => {
          if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
            ev.preventDefault();
            props.onSend(props.body);
          }
        }}
      />
      <div className="mlops-TrafficActions">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton mlops-TryItSend"
          disabled={props.sending || !props.active}
          title={
            props.active
              ? 'Send the request (Ctrl+Enter)'
              : 'The deployment is stopped'
          }
          onClick={() => props.onSend(props.body)}
        >
          {props.sending ? 'Sending…' : 'Send'}
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-TryItReset"
          disabled={props.sending}
          title="Start again from the model's example (clears the answer)"
          onClick={props.onReset}
        >
          Reset example
        </button>
        {!props.active && (
          <span className="mlops-Muted mlops-Note">
            The deployment is stopped.
          </span>
        )}
      </div>
      {props.result &&
        (props.result.ok ? (
          <div className="mlops-TryItResult mlops-mod-ok">
            <div className="mlops-TryItStatus">200 OK</div>
            <pre className="mlops-Code mlops-TryItResponse">
              {props.result.text}
            </pre>
          </div>
        ) : (
          <div className="mlops-TryItResult mlops-mod-error" role="alert">
            <div className="mlops-TryItStatus">
              {props.result.error.status
                ? `HTTP ${props.result.error.status}`
                : 'Not sent'}
              {props.result.error.code && (
                <code className="mlops-TryItCode">
                  {props.result.error.code}
                </code>
              )}
            </div>
            <ErrorDetailView detail={props.result.error} />
          </div>
        ))}
    </div>
  );
}

/** A refusal as a message and, when the server listed them, one line per problem. */
function ErrorDetailView({ detail }: { detail: ErrorDetail }): JSX.Element {
  return (
    <div className="mlops-ErrorDetail">
      {detail.message && (
        <div className="mlops-ErrorDetailMessage">{detail.message}</div>
      )}
      {detail.problems.length > 0 && (
        <ul className="mlops-ErrorProblems">
          {detail.problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
