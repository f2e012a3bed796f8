/**
 * The run detail view, shown in a main-area tab (one per run).
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import { ISignal } from '@lumino/signaling';
import { notebookIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { MetricHistory, MlopsClient, Run, RunDetail } from './client';
import { FinalValuesChart, SeriesCharts } from './chart';
import {
  EmptyInline,
  ErrorBanner,
  Fact,
  KeyValueTable,
  loadErrorMessage,
  MetricsTable,
  NotLoaded,
  PollTimer,
  Section,
  sortedEntries
} from './common';
import {
  formatBytes,
  formatDuration,
  formatTime,
  runDuration,
  shortId
} from './format';
import { StatusDot } from './common';
import { sameData } from './query';
import { ChildRunsTable, LoadedFigure, RunCharts } from './runchildren';
import {
  bestChildId,
  CHILDREN_LIMIT,
  childFamily,
  childRunsFilter,
  childSummary,
  errorReport,
  figureArtifacts,
  isNotebookArtifact,
  presentTagColumns,
  runnerOf,
  sortChildren
} from './runfamily';
import { isFigure, StoredFigure } from './storedfigure';

export class RunDetailWidget extends ReactWidget {
  constructor(options: RunDetailWidget.IOptions) {
    super();
    this.runId = options.runId;
    this._client = options.client;
    this._commands = options.commands;
    this._timer = new PollTimer(
      () => void this.refresh(),
      options.refreshInterval
    );
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

  /** Reload the run (its metric histories, child runs and stored charts). */
  async refresh(): Promise<void> {
    try {
      const [detail, children] = await Promise.all([
        this._client.run(this.runId),
        this._loadChildren()
      ]);
      const keys = detail.metric_keys?.length
        ? detail.metric_keys
        : Object.keys(detail.metrics ?? {});
      const [histories, figureChanged] = await Promise.all([
        Promise.all(
          keys.map(key =>
            this._client
              .metricHistory(this.runId, key)
              .catch(
                () =>
                  ({ run_id: this.runId, key, history: [] }) as MetricHistory
              )
          )
        ),
        this._loadFigures(detail)
      ]);
      if (this.isDisposed) {
        return;
      }
      const changed =
        !sameData(detail, this._detail) ||
        !sameData(histories, this._histories) ||
        !sameData(children, this._children) ||
        figureChanged ||
        this._error !== null;
      this._detail = detail;
      this._histories = histories;
      this._children = children;
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
      this._error = loadErrorMessage(reason, `Run ${this.runId}`);
      this.update();
    }
    this._schedule();
  }

  /**
   * The runs started under this one (a sweep's runs, a pipeline's steps, AutoML
   * trials, federated rounds).
   */
  private async _loadChildren(): Promise<Run[]> {
    try {
      const page = await this._client.runs({
        filter: childRunsFilter(this.runId),
        limit: CHILDREN_LIMIT
      });
      return sortChildren(page.runs);
    } catch {
      // The run itself still shows; its children are optional.
      return this._children;
    }
  }

  /**
   * Load the run's stored charts whose sha256 changed (each stored version is read
   * once, even when it cannot be parsed); returns whether any changed.
   */
  private async _loadFigures(detail: RunDetail): Promise<boolean> {
    const wanted = figureArtifacts(detail);
    const paths = new Set(wanted.map(w => w.artifact.path));
    let changed = false;
    for (const path of Array.from(this._figures.keys())) {
      if (!paths.has(path)) {
        this._figures.delete(path);
        changed = true;
      }
    }
    const stale = wanted.filter(
      w => this._figures.get(w.artifact.path)?.sha !== w.artifact.sha256
    );
    const loaded = await Promise.all(
      stale.map(w =>
        this._client
          .runArtifactJson<unknown>(this.runId, w.artifact.path)
          .then(stored => (isFigure(stored) ? stored : null))
          .catch(() => null)
      )
    );
    stale.forEach((w, i) => {
      this._figures.set(w.artifact.path, {
        sha: w.artifact.sha256,
        figure: loaded[i]
      });
    });
    return changed || stale.length > 0;
  }

  /** The stored charts that could be read, in the order the tab draws them. */
  private _loadedFigures(): LoadedFigure[] {
    if (!this._detail) {
      return [];
    }
    const figures: LoadedFigure[] = [];
    for (const w of figureArtifacts(this._detail)) {
      const loaded = this._figures.get(w.artifact.path);
      if (loaded?.figure && loaded.sha === w.artifact.sha256) {
        figures.push({
          path: w.artifact.path,
          sha: loaded.sha,
          figure: loaded.figure,
          fallbackTitle: w.fallbackTitle,
          sweep: w.sweep
        });
      }
    }
    return figures;
  }

  dispose(): void {
    this._timer.stop();
    super.dispose();
  }

  /** While the run (or one of its children) is running, poll for new metrics. */
  private _schedule(): void {
    this._timer.schedule(
      !this.isDisposed &&
        (this._detail?.status === 'running' ||
          this._children.some(c => c.status === 'running'))
    );
  }

  protected render(): JSX.Element {
    if (!this._detail) {
      return (
        <NotLoaded error={this._error}>Loading run {this.runId}…</NotLoaded>
      );
    }
    return (
      <RunDetailView
        detail={this._detail}
        histories={this._histories}
        error={this._error}
        themeVersion={this._themeVersion}
        childRuns={this._children}
        figures={this._loadedFigures()}
        openNotebook={path =>
          void this._commands.execute('docmanager:open', { path })
        }
        openRun={runId =>
          void this._commands.execute('mlops:open-run', { runId })
        }
        compareRuns={runIds =>
          void this._commands.execute('mlops:compare-runs', { runIds })
        }
        viewNotebook={artifact =>
          void this._commands.execute('mlops:open-notebook-snapshot', {
            runId: this.runId,
            path: this._detail?.source?.notebook_path ?? null,
            artifact
          })
        }
        artifactUrl={path => this._client.artifactUrl(this.runId, path)}
      />
    );
  }

  private _client: MlopsClient;
  private _commands: CommandRegistry;
  private _detail: RunDetail | null = null;
  private _histories: MetricHistory[] = [];
  private _children: Run[] = [];
  /** The stored charts by path, each read once per sha256 (null: unreadable). */
  private _figures = new Map<
    string,
    { sha: string; figure: StoredFigure | null }
  >();
  private _error: string | null = null;
  private _themeVersion = 0;
  private _timer: PollTimer;
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

function RunDetailView(props: {
  detail: RunDetail;
  histories: MetricHistory[];
  childRuns: Run[];
  figures: LoadedFigure[];
  error: string | null;
  themeVersion: number;
  openNotebook: (path: string) => void;
  openRun: (runId: string) => void;
  compareRuns: (runIds: string[]) => void;
  viewNotebook: (artifact: string) => void;
  artifactUrl: (path: string) => string;
}): JSX.Element {
  const d = props.detail;
  const notebookPath = d.source?.notebook_path ?? null;
  const params = sortedEntries(d.params);
  const metrics = sortedEntries(d.metrics);
  const tags = Object.entries(d.tags ?? {});
  const packages = sortedEntries(d.environment?.packages);
  const series = props.histories.filter(h => h.history.length > 1);
  const singles = props.histories.filter(h => h.history.length === 1);
  const runner = runnerOf(d);
  const family = childFamily(runner);
  const children = props.childRuns;
  return (
    <div className="mlops-RunDetailBody">
      {props.error && <ErrorBanner>{props.error}</ErrorBanner>}
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
          <Fact label="Experiment">{d.experiment_name}</Fact>
          <Fact label="User">{d.user || '—'}</Fact>
          <Fact label="Started">{formatTime(d.start_time)}</Fact>
          <Fact label="Duration">{formatDuration(runDuration(d))}</Fact>
          <Fact label="Run id">
            <code title={d.id}>{shortId(d.id, 12)}</code>
          </Fact>
          {notebookPath && (
            <Fact
              label="Notebook"
              title={d.source?.notebook_abspath ?? notebookPath}
            >
              {notebookPath}
            </Fact>
          )}
          {d.source?.git_commit && (
            <Fact label="Git commit">
              <code title={d.source.git_commit}>
                {shortId(d.source.git_commit, 10)}
              </code>
            </Fact>
          )}
          {runner && <Fact label="Runner">{runner}</Fact>}
          {d.parent_run_id && (
            <Fact label="Parent run" title={d.parent_run_id}>
              <a
                className="mlops-Link mlops-ParentRun"
                href="#"
                title={`Open the parent run ${d.parent_run_id}`}
                onClick={ev => {
                  ev.preventDefault();
                  props.openRun(d.parent_run_id!);
                }}
              >
                <code>{shortId(d.parent_run_id, 12)}</code>
              </a>
            </Fact>
          )}
        </dl>
      </header>

      {d.error && (
        <Section
          title={d.status === 'failed' ? 'Error' : 'Problems'}
          className="mlops-ErrorSection"
        >
          <RunError error={d.error} />
        </Section>
      )}

      {props.figures.length > 0 && (
        <Section
          title={runner === 'sweep' ? 'Sweep' : 'Charts'}
          count={props.figures.length > 1 ? props.figures.length : undefined}
          className="mlops-RunChartsSection"
        >
          <RunCharts
            figures={props.figures}
            themeVersion={props.themeVersion}
          />
        </Section>
      )}

      {children.length > 0 && (
        <Section
          title={family.title}
          count={children.length}
          className="mlops-ChildRunsSection"
        >
          <div className="mlops-ChildRunsToolbar">
            <span className="mlops-Muted">
              {childSummary(children, family.noun)}
            </span>
            <span className="mlops-Spacer" />
            {children.length >= 2 && (
              <button
                className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-CompareChildren"
                title="Compare these runs (parallel coordinates, histories, diff)"
                onClick={() =>
                  props.compareRuns(children.slice(0, 50).map(c => c.id))
                }
              >
                Compare {Math.min(children.length, 50)}
              </button>
            )}
          </div>
          <ChildRunsTable
            runs={children}
            bestId={bestChildId(d)}
            tagColumns={presentTagColumns(family, children)}
            openRun={props.openRun}
          />
        </Section>
      )}

      <Section title="Metrics" count={metrics.length}>
        <div className="mlops-Columns">
          <MetricsTable metrics={metrics} empty="No metrics logged." />
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
          <EmptyInline>No tags.</EmptyInline>
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
          <EmptyInline>No input datasets recorded.</EmptyInline>
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
                <th aria-label="Actions" />
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
                  <td className="mlops-ArtifactActions">
                    {isNotebookArtifact(a.path) && (
                      <button
                        className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-ViewNotebook"
                        title={`View ${a.path} (read-only, as stored)`}
                        aria-label={`View ${a.path}`}
                        onClick={() => props.viewNotebook(a.path)}
                      >
                        <notebookIcon.react
                          tag="span"
                          className="mlops-ButtonIcon"
                        />
                        View
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <EmptyInline>No artifacts.</EmptyInline>
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
          <EmptyInline>No environment recorded.</EmptyInline>
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

/** A failed run's error: its first line as a headline, the rest as monospace text. */
function RunError({ error }: { error: string }): JSX.Element {
  const report = errorReport(error);
  return (
    <div className="mlops-RunError">
      <div className="mlops-RunErrorHeadline">{report.headline}</div>
      {report.detail && <pre className="mlops-Traceback">{report.detail}</pre>}
    </div>
  );
}
