/**
 * The run detail view, shown in a main-area tab (one per run).
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import { ISignal } from '@lumino/signaling';
import {
  caretDownIcon,
  caretRightIcon,
  notebookIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { MetricHistory, MlopsApiError, MlopsClient, RunDetail } from './client';
import { FinalValuesChart, SeriesCharts } from './chart';
import {
  formatBytes,
  formatDuration,
  formatMetric,
  formatTime,
  runDuration,
  shortId
} from './format';
import { StatusDot } from './panel';
import { sameData } from './query';

export class RunDetailWidget extends ReactWidget {
  constructor(options: RunDetailWidget.IOptions) {
    super();
    this.runId = options.runId;
    this._client = options.client;
    this._commands = options.commands;
    this._refreshInterval = options.refreshInterval;
    this.addClass('mlops-RunDetail');
    options.themeChanged?.connect(() => {
      this._themeVersion++;
      this.update();
    }, this);
    void this.refresh();
  }

  readonly runId: string;

  get detail(): RunDetail | null {
    return this._detail;
  }

  /** Reload the run (and metric histories). */
  async refresh(): Promise<void> {
    try {
      const detail = await this._client.run(this.runId);
      const keys = detail.metric_keys?.length
        ? detail.metric_keys
        : Object.keys(detail.metrics ?? {});
      const histories = await Promise.all(
        keys.map(key =>
          this._client
            .metricHistory(this.runId, key)
            .catch(
              () => ({ run_id: this.runId, key, history: [] }) as MetricHistory
            )
        )
      );
      if (this.isDisposed) {
        return;
      }
      const changed =
        !sameData(detail, this._detail) ||
        !sameData(histories, this._histories) ||
        this._error !== null;
      this._detail = detail;
      this._histories = histories;
      this._error = null;
      this.title.label = `Run ${detail.name || shortId(detail.id)}`;
      this.title.caption = `${detail.experiment_name} / ${detail.name} (${detail.status})`;
      if (changed) {
        this.update();
      }
    } catch (reason) {
      if (this.isDisposed) {
        return;
      }
      this._error =
        reason instanceof MlopsApiError && reason.status === 404
          ? `Run ${this.runId} was not found: ${reason.message}`
          : String(reason instanceof Error ? reason.message : reason);
      this.update();
    }
    this._schedule();
  }

  dispose(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    super.dispose();
  }

  /** While the run is running, poll for new metrics. */
  private _schedule(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    const seconds = this._refreshInterval();
    if (this.isDisposed || seconds <= 0 || this._detail?.status !== 'running') {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this.refresh();
    }, seconds * 1000);
  }

  protected render(): JSX.Element {
    if (this._error && !this._detail) {
      return (
        <div className="mlops-Banner mlops-Banner-error">{this._error}</div>
      );
    }
    if (!this._detail) {
      return (
        <div className="mlops-Empty mlops-Muted">Loading run {this.runId}…</div>
      );
    }
    return (
      <RunDetailView
        detail={this._detail}
        histories={this._histories}
        error={this._error}
        themeVersion={this._themeVersion}
        openNotebook={path =>
          void this._commands.execute('docmanager:open', { path })
        }
        artifactUrl={path => this._client.artifactUrl(this.runId, path)}
      />
    );
  }

  private _client: MlopsClient;
  private _commands: CommandRegistry;
  private _refreshInterval: () => number;
  private _detail: RunDetail | null = null;
  private _histories: MetricHistory[] = [];
  private _error: string | null = null;
  private _themeVersion = 0;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}

export namespace RunDetailWidget {
  export interface IOptions {
    runId: string;
    client: MlopsClient;
    commands: CommandRegistry;
    /** The polling interval in seconds (0 = off), read at each poll. */
    refreshInterval: () => number;
    themeChanged?: ISignal<any, any> | null;
  }
}

export function Section(props: {
  title: string;
  count?: number;
  defaultOpen?: boolean;
  className?: string;
  children: React.ReactNode;
}): JSX.Element {
  const [open, setOpen] = React.useState(props.defaultOpen ?? true);
  const Caret = open ? caretDownIcon : caretRightIcon;
  return (
    <section className={`mlops-DetailSection ${props.className ?? ''}`}>
      <h3
        className="mlops-DetailSectionTitle"
        role="button"
        aria-expanded={open}
        tabIndex={0}
        onClick={() => setOpen(!open)}
        onKeyDown={ev => {
          if (ev.key === 'Enter' || ev.key === ' ') {
            ev.preventDefault();
            setOpen(!open);
          }
        }}
      >
        <Caret.react tag="span" className="mlops-Caret" />
        {props.title}
        {props.count !== undefined && (
          <span className="mlops-Badge">{props.count}</span>
        )}
      </h3>
      {open && <div className="mlops-DetailSectionBody">{props.children}</div>}
    </section>
  );
}

export function KeyValueTable(props: {
  rows: [string, React.ReactNode][];
  empty: string;
  numeric?: boolean;
  /** Flow many rows into several columns. */
  grid?: boolean;
}): JSX.Element {
  if (!props.rows.length) {
    return <div className="mlops-Muted mlops-EmptyInline">{props.empty}</div>;
  }
  if (props.grid) {
    return (
      <dl className="mlops-KVGrid">
        {props.rows.map(([k, v]) => (
          <div key={k} className="mlops-KVGridItem">
            <dt title={k}>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    );
  }
  return (
    <table className="mlops-KVTable">
      <tbody>
        {props.rows.map(([k, v]) => (
          <tr key={k}>
            <th title={k}>{k}</th>
            <td className={props.numeric ? 'mlops-col-num' : ''}>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RunDetailView(props: {
  detail: RunDetail;
  histories: MetricHistory[];
  error: string | null;
  themeVersion: number;
  openNotebook: (path: string) => void;
  artifactUrl: (path: string) => string;
}): JSX.Element {
  const d = props.detail;
  const notebookPath = d.source?.notebook_path ?? null;
  const params = Object.entries(d.params ?? {}).sort(([a], [b]) =>
    a.localeCompare(b)
  );
  const metrics = Object.entries(d.metrics ?? {}).sort(([a], [b]) =>
    a.localeCompare(b)
  );
  const tags = Object.entries(d.tags ?? {});
  const packages = Object.entries(d.environment?.packages ?? {}).sort(
    ([a], [b]) => a.localeCompare(b)
  );
  const series = props.histories.filter(h => h.history.length > 1);
  const singles = props.histories.filter(h => h.history.length === 1);
  return (
    <div className="mlops-RunDetailBody">
      {props.error && (
        <div className="mlops-Banner mlops-Banner-error">{props.error}</div>
      )}
      <header className="mlops-RunHeader">
        <div className="mlops-RunTitleRow">
          <StatusDot status={d.status} />
          <h1 className="mlops-RunTitle">{d.name || d.id}</h1>
          <span className={`mlops-StatusPill mlops-status-${d.status}`}>
            {d.status}
          </span>
          <span className="mlops-Spacer" />
          <button
            className="jp-Button jp-mod-styled jp-mod-accept mlops-OpenNotebook"
            disabled={!notebookPath}
            title={
              notebookPath
                ? `Open ${notebookPath}`
                : 'The notebook of this run is unknown (not run from a notebook, or not recorded)'
            }
            onClick={() => notebookPath && props.openNotebook(notebookPath)}
          >
            <notebookIcon.react tag="span" className="mlops-ButtonIcon" />
            Open notebook
          </button>
        </div>
        <dl className="mlops-RunFacts">
          <div>
            <dt>Experiment</dt>
            <dd>{d.experiment_name}</dd>
          </div>
          <div>
            <dt>User</dt>
            <dd>{d.user || '—'}</dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>{formatTime(d.start_time)}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(runDuration(d))}</dd>
          </div>
          <div>
            <dt>Run id</dt>
            <dd>
              <code title={d.id}>{shortId(d.id, 12)}</code>
            </dd>
          </div>
          {notebookPath && (
            <div>
              <dt>Notebook</dt>
              <dd title={d.source?.notebook_abspath ?? notebookPath}>
                {notebookPath}
              </dd>
            </div>
          )}
          {d.source?.git_commit && (
            <div>
              <dt>Git commit</dt>
              <dd>
                <code title={d.source.git_commit}>
                  {shortId(d.source.git_commit, 10)}
                </code>
              </dd>
            </div>
          )}
          {d.parent_run_id && (
            <div>
              <dt>Parent run</dt>
              <dd>
                <code>{shortId(d.parent_run_id, 12)}</code>
              </dd>
            </div>
          )}
        </dl>
      </header>

      {d.error && (
        <Section title="Error" className="mlops-ErrorSection">
          <pre className="mlops-Traceback">{d.error}</pre>
        </Section>
      )}

      <Section title="Metrics" count={metrics.length}>
        <div className="mlops-Columns">
          <KeyValueTable
            numeric
            rows={metrics.map(([k, v]) => [
              k,
              <span key={k} title={String(v)}>
                {formatMetric(v)}
              </span>
            ])}
            empty="No metrics logged."
          />
          {singles.length > 0 && (
            <FinalValuesChart
              histories={singles}
              themeVersion={props.themeVersion}
            />
          )}
        </div>
      </Section>

      {series.length > 0 && (
        <Section title="Metric history" count={series.length}>
          <SeriesCharts histories={series} themeVersion={props.themeVersion} />
        </Section>
      )}

      <Section title="Parameters" count={params.length}>
        <KeyValueTable rows={params} empty="No parameters logged." grid />
      </Section>

      <Section title="Tags" count={tags.length}>
        {tags.length ? (
          <div className="mlops-Tags">
            {tags.map(([k, v]) => (
              <span key={k} className="mlops-Tag" title={`${k}=${v}`}>
                <span className="mlops-TagKey">{k}</span>
                <span className="mlops-TagValue">{v}</span>
              </span>
            ))}
          </div>
        ) : (
          <div className="mlops-Muted mlops-EmptyInline">No tags.</div>
        )}
      </Section>

      <Section title="Datasets" count={d.datasets?.length ?? 0}>
        {d.datasets?.length ? (
          <table className="mlops-Table">
            <thead>
              <tr>
                <th>Role</th>
                <th>Name</th>
                <th className="mlops-col-num">Rows</th>
                <th>Columns</th>
                <th>Fingerprint</th>
              </tr>
            </thead>
            <tbody>
              {d.datasets.map((ds, i) => (
                <tr key={`${ds.role}-${ds.name}-${i}`}>
                  <td>
                    <span className="mlops-Badge">{ds.role}</span>
                  </td>
                  <td>{ds.name}</td>
                  <td className="mlops-col-num">{ds.rows ?? '—'}</td>
                  <td
                    className="mlops-Ellipsis"
                    title={(ds.schema ?? [])
                      .map(c => `${c.name}: ${c.dtype}`)
                      .join('\n')}
                  >
                    {(ds.schema ?? []).length
                      ? `${ds.schema!.length}: ${ds.schema!.map(c => c.name).join(', ')}`
                      : '—'}
                  </td>
                  <td>
                    <code title={ds.fingerprint}>
                      {shortId(ds.fingerprint, 12)}
                    </code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <div className="mlops-Muted mlops-EmptyInline">
            No input datasets recorded.
          </div>
        )}
      </Section>

      <Section title="Artifacts" count={d.artifacts?.length ?? 0}>
        {d.artifacts?.length ? (
          <table className="mlops-Table">
            <thead>
              <tr>
                <th>Path</th>
                <th className="mlops-col-num">Size</th>
                <th>sha256</th>
              </tr>
            </thead>
            <tbody>
              {d.artifacts.map(a => (
                <tr key={a.path}>
                  <td>
                    <a
                      className="mlops-Link"
                      href={props.artifactUrl(a.path)}
                      target="_blank"
                      rel="noopener noreferrer"
                      download={a.path.split('/').pop()}
                      title={`Download ${a.path}`}
                    >
                      <code>{a.path}</code>
                    </a>
                  </td>
                  <td className="mlops-col-num">{formatBytes(a.size)}</td>
                  <td>
                    <code title={a.sha256}>{shortId(a.sha256, 12)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <div className="mlops-Muted mlops-EmptyInline">No artifacts.</div>
        )}
      </Section>

      <Section
        title="Environment"
        count={packages.length || undefined}
        defaultOpen={false}
      >
        {d.environment ? (
          <>
            <KeyValueTable
              rows={[
                ['python', d.environment.python ?? '—'],
                ['platform', d.environment.platform ?? '—']
              ]}
              empty=""
            />
            <KeyValueTable rows={packages} empty="No packages recorded." />
          </>
        ) : (
          <div className="mlops-Muted mlops-EmptyInline">
            No environment recorded.
          </div>
        )}
      </Section>

      {d.source?.cell_source && (
        <Section title="Source cell" defaultOpen={false}>
          <pre className="mlops-Code">{d.source.cell_source}</pre>
        </Section>
      )}
    </div>
  );
}
