/**
 * The runs compare view, shown in a main-area tab: parallel coordinates of the
 * params against a metric, the metric's histories overlaid, and a params/metrics
 * diff table.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { HTMLSelect } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { ISignal } from '@lumino/signaling';
import * as React from 'react';

import { baseLayout, Colors, Plot, stepAxes } from './chart';
import { MetricHistory, MlopsClient, RunDetail } from './client';
import {
  EmptyInline,
  ErrorBanner,
  loadErrorMessage,
  PollTimer,
  Section,
  StatusDot
} from './common';
import {
  compareTabLabel,
  defaultMetric,
  DiffRow,
  diffRows,
  DiffSection,
  HistoryTrace,
  historyTraces,
  metricCoverage,
  ParcoordsData,
  parcoordsData,
  runLabels,
  uniqueRunIds
} from './compare';
import { formatMetric, shortId } from './format';
import { sameData } from './query';

export { compareTabLabel } from './compare';

/** A run of the compare tab that could not be loaded, and why. */
export interface CompareFailure {
  runId: string;
  message: string;
}

/** The metric histories of the runs for one metric. */
interface LoadedHistories {
  metric: string;
  histories: MetricHistory[];
}

/** The most runs the parallel coordinates get a labelled `run` axis for. */
const RUN_AXIS_MAX = 15;

export class CompareRunsWidget extends ReactWidget {
  constructor(options: CompareRunsWidget.IOptions) {
    super();
    this._runIds = uniqueRunIds(options.runIds);
    this._client = options.client;
    this._commands = options.commands;
    this._timer = new PollTimer(
      () => void this.refresh(),
      options.refreshInterval ?? (() => 0)
    );
    this.addClass('mlops-CompareRuns');
    this.title.label = compareTabLabel(this._runIds);
    this.title.caption = this.title.label;
    options.themeChanged?.connect(() => {
      this._themeVersion++;
      this.update();
    }, this);
    void this.refresh();
  }

  /** The ids of the compared runs (without duplicates), in their given order. */
  get runIds(): string[] {
    return [...this._runIds];
  }

  /** The runs loaded, in the order of `runIds` (the failed ones left out). */
  get runs(): RunDetail[] {
    return this._runs;
  }

  /** The runs that could not be loaded. */
  get failures(): CompareFailure[] {
    return this._failures;
  }

  /** The metric of the charts, or null when no run has a metric. */
  get metric(): string | null {
    return this._metric;
  }

  /** Chart another metric (loads its histories). */
  setMetric(metric: string): void {
    if (metric === this._metric) {
      return;
    }
    this._metric = metric;
    this.update();
    void this._loadHistories(metric);
  }

  /** Reload the runs (in parallel) and the histories of the metric. */
  async refresh(): Promise<void> {
    if (this._runIds.length < 2) {
      this._loading = false;
      this.update();
      return;
    }
    const token = ++this._refreshToken;
    const results = await Promise.all(
      this._runIds.map(runId =>
        this._client.run(runId).then(
          run => ({ runId, run, message: null }),
          reason => ({
            runId,
            run: null,
            message: loadErrorMessage(reason, `Run ${shortId(runId)}`)
          })
        )
      )
    );
    if (this.isDisposed || token !== this._refreshToken) {
      return;
    }
    const runs: RunDetail[] = [];
    const failures: CompareFailure[] = [];
    for (const result of results) {
      if (result.run) {
        runs.push(result.run);
      } else {
        failures.push({ runId: result.runId, message: result.message ?? '' });
      }
    }
    // Keep the chosen metric (also one chosen while loading) while a run has it.
    const keys = new Set(metricCoverage(runs).map(c => c.key));
    let metric = this._metric;
    if (!metric || !keys.has(metric)) {
      metric = defaultMetric(runs);
    }
    const runsChanged = !sameData(runs, this._runs);
    const changed =
      runsChanged ||
      !sameData(failures, this._failures) ||
      metric !== this._metric ||
      this._loading;
    if (runsChanged) {
      // Same data, same array: the charts' memoized data stays as is.
      this._runs = runs;
    }
    this._failures = failures;
    this._metric = metric;
    this._loading = false;
    const labels = runLabels(runs);
    this.title.caption = labels.length
      ? `${compareTabLabel(this._runIds)}: ${labels.join(', ')}`
      : compareTabLabel(this._runIds);
    if (changed) {
      this.update();
    }
    if (metric) {
      await this._loadHistories(metric);
    }
    this._timer.schedule(
      !this.isDisposed && runs.some(run => run.status === 'running')
    );
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._timer.stop();
    super.dispose();
  }

  /** Load the histories of `metric` for the runs that have it. */
  private async _loadHistories(metric: string): Promise<void> {
    const runs = this._runs;
    const histories = await Promise.all(
      runs
        .filter(
          run =>
            metric in (run.metrics ?? {}) || run.metric_keys?.includes(metric)
        )
        .map(run =>
          this._client
            .metricHistory(run.id, metric)
            .catch((): MetricHistory => ({
              run_id: run.id,
              key: metric,
              history: []
            }))
        )
    );
    if (this.isDisposed || this._metric !== metric || this._runs !== runs) {
      return;
    }
    const loaded = { metric, histories };
    if (!sameData(loaded, this._histories)) {
      this._histories = loaded;
      this.update();
    }
  }

  protected render(): JSX.Element {
    return (
      <CompareView
        runIds={this._runIds}
        runs={this._runs}
        failures={this._failures}
        loading={this._loading}
        metric={this._metric}
        histories={
          this._histories && this._histories.metric === this._metric
            ? this._histories.histories
            : null
        }
        themeVersion={this._themeVersion}
        setMetric={metric => this.setMetric(metric)}
        openRun={runId =>
          void this._commands.execute('mlops:open-run', { runId })
        }
      />
    );
  }

  private _runIds: string[];
  private _client: MlopsClient;
  private _commands: CommandRegistry;
  private _runs: RunDetail[] = [];
  private _failures: CompareFailure[] = [];
  private _loading = true;
  private _metric: string | null = null;
  private _histories: LoadedHistories | null = null;
  private _refreshToken = 0;
  private _themeVersion = 0;
  private _timer: PollTimer;
}

export namespace CompareRunsWidget {
  export interface IOptions {
    runIds: string[];
    client: MlopsClient;
    commands: CommandRegistry;
    themeChanged?: ISignal<any, any> | null;
    /**
     * The polling interval in seconds (0 = off), read at each poll: the tab polls
     * while a compared run is running. No polling when omitted.
     */
    refreshInterval?: () => number;
  }
}

interface ICompareViewProps {
  runIds: string[];
  runs: RunDetail[];
  failures: CompareFailure[];
  loading: boolean;
  metric: string | null;
  /** The histories of `metric`, or null while they load. */
  histories: MetricHistory[] | null;
  themeVersion: number;
  setMetric: (metric: string) => void;
  openRun: (runId: string) => void;
}

function CompareView(props: ICompareViewProps): JSX.Element {
  const { runs, metric } = props;
  let body: React.ReactNode;
  if (props.runIds.length < 2) {
    body = (
      <div className="mlops-Empty mlops-CompareEmpty">
        Select at least two runs to compare (in the runs table of the MLOps
        panel).
      </div>
    );
  } else if (props.loading) {
    body = (
      <div className="mlops-Empty mlops-Muted">
        Loading {props.runIds.length} runs…
      </div>
    );
  } else if (runs.length < 2) {
    body = (
      <div className="mlops-Empty mlops-CompareEmpty">
        {runs.length === 1
          ? 'Only one of the runs could be loaded: select at least two runs to compare.'
          : 'None of the runs could be loaded: select at least two runs to compare.'}
      </div>
    );
  } else {
    body = (
      <>
        <CompareHeader runs={runs} openRun={props.openRun} />
        <MetricSelector
          runs={runs}
          metric={metric}
          setMetric={props.setMetric}
        />
        {metric ? (
          <>
            <Section title={`Parameters vs ${metric}`}>
              <ParcoordsChart
                runs={runs}
                metric={metric}
                themeVersion={props.themeVersion}
              />
            </Section>
            <Section title={`${metric} history`}>
              <HistoriesChart
                runs={runs}
                metric={metric}
                histories={props.histories}
                themeVersion={props.themeVersion}
              />
            </Section>
          </>
        ) : (
          <EmptyInline>
            None of these runs logged a metric: there is nothing to chart.
          </EmptyInline>
        )}
        <Section title="Parameters and metrics">
          <DiffTable runs={runs} openRun={props.openRun} />
        </Section>
      </>
    );
  }
  return (
    <div className="mlops-CompareView" data-testid="mlops-compare-view">
      {props.failures.length > 0 && (
        <ErrorBanner role="alert">
          <span className="mlops-CompareFailuresTitle">
            {props.failures.length === 1
              ? `Could not load 1 of ${props.runIds.length} runs:`
              : `Could not load ${props.failures.length} of ${props.runIds.length} runs:`}
          </span>
          <ul className="mlops-CompareFailures">
            {props.failures.map(f => (
              <li key={f.runId} data-run-id={f.runId}>
                <code title={f.runId}>{shortId(f.runId, 12)}</code>: {f.message}
              </li>
            ))}
          </ul>
        </ErrorBanner>
      )}
      {body}
    </div>
  );
}

/** A link that opens the tab of a run. */
function RunLink(props: {
  runId: string;
  label: string;
  openRun: (runId: string) => void;
}): JSX.Element {
  return (
    <a
      className="mlops-Link mlops-CompareRunLink"
      href="#"
      title={`Open run ${props.runId}`}
      data-run-id={props.runId}
      onClick={ev => {
        ev.preventDefault();
        props.openRun(props.runId);
      }}
    >
      {props.label}
    </a>
  );
}

function CompareHeader(props: {
  runs: RunDetail[];
  openRun: (runId: string) => void;
}): JSX.Element {
  const labels = runLabels(props.runs);
  const experiments = [...new Set(props.runs.map(r => r.experiment_name))];
  return (
    <header className="mlops-RunHeader mlops-CompareHeader">
      <div className="mlops-RunTitleRow">
        <h1 className="mlops-RunTitle">Compare {props.runs.length} runs</h1>
        {experiments.length === 1 && (
          <span className="mlops-Muted" title="Experiment">
            {experiments[0]}
          </span>
        )}
      </div>
      <ul className="mlops-CompareRunList" aria-label="Compared runs">
        {props.runs.map((run, i) => (
          <li
            key={run.id}
            className="mlops-CompareRunChip"
            title={`${run.experiment_name} / ${run.name || run.id} (${run.status})`}
          >
            <StatusDot status={run.status} />
            <RunLink runId={run.id} label={labels[i]} openRun={props.openRun} />
          </li>
        ))}
      </ul>
    </header>
  );
}

function MetricSelector(props: {
  runs: RunDetail[];
  metric: string | null;
  setMetric: (metric: string) => void;
}): JSX.Element | null {
  const coverage = metricCoverage(props.runs);
  if (!coverage.length || !props.metric) {
    return null;
  }
  const total = props.runs.length;
  return (
    <div className="mlops-CompareToolbar">
      <label className="mlops-CompareMetric">
        <span className="mlops-CompareMetricLabel">Metric</span>
        <HTMLSelect
          className="mlops-CompareMetricSelect"
          aria-label="Metric to compare"
          value={props.metric}
          onChange={ev => props.setMetric(ev.target.value)}
          options={coverage.map(c => ({
            value: c.key,
            label: c.runs < total ? `${c.key} (${c.runs}/${total} runs)` : c.key
          }))}
        />
      </label>
    </div>
  );
}

/** A short list of run labels: `a, b and 3 more`. */
function labelList(labels: string[], max = 4): string {
  if (labels.length <= max) {
    return labels.join(', ');
  }
  return `${labels.slice(0, max).join(', ')} and ${labels.length - max} more`;
}

/** A sequential colorscale of mid-luminance colors: readable on light and dark. */
const COLORSCALE: [number, string][] = [
  [0, '#5c6bc0'],
  [0.5, '#26a69a'],
  [1, '#f39c12']
];

function parcoordsFigure(
  data: ParcoordsData,
  colors: Colors
): { data: any[]; layout: Record<string, any> } {
  const layout = baseLayout('', colors);
  delete layout.title;
  delete layout.xaxis;
  delete layout.yaxis;
  layout.height = 380;
  // Room for the first axis' tick labels (drawn on its left), the axis labels
  // above and the colorbar on the right.
  const first = data.dimensions[0];
  const longest = Math.max(
    4,
    ...(first.ticktext ?? []).map(t => t.length),
    ...first.values.map(v => formatMetric(v).length)
  );
  layout.margin = {
    l: Math.min(200, Math.max(48, 16 + 6 * longest)),
    r: 80,
    t: 56,
    b: 24
  };
  const [cmin, cmax] = data.dimensions[data.dimensions.length - 1].range;
  return {
    data: [
      {
        type: 'parcoords',
        line: {
          color: data.color,
          colorscale: COLORSCALE,
          cmin,
          cmax,
          showscale: true,
          colorbar: {
            title: {
              text: data.metric,
              side: 'right',
              font: { color: colors.text, family: colors.font, size: 11 }
            },
            tickfont: { color: colors.muted, family: colors.font, size: 10 },
            outlinewidth: 0,
            thickness: 12
          }
        },
        labelfont: { color: colors.text, family: colors.font, size: 11 },
        tickfont: { color: colors.muted, family: colors.font, size: 10 },
        rangefont: { color: colors.muted, family: colors.font, size: 9 },
        labelangle: data.dimensions.length > 6 ? -20 : 0,
        labelside: 'top',
        dimensions: data.dimensions.map(d => ({
          label: d.label,
          values: d.values,
          range: d.range,
          ...(d.tickvals ? { tickvals: d.tickvals, ticktext: d.ticktext } : {})
        }))
      }
    ],
    layout
  };
}

function ParcoordsChart(props: {
  runs: RunDetail[];
  metric: string;
  themeVersion: number;
}): JSX.Element {
  const data = React.useMemo(
    () =>
      parcoordsData(props.runs, props.metric, {
        runAxis: props.runs.length <= RUN_AXIS_MAX
      }),
    [props.runs, props.metric]
  );
  const labelOf = React.useMemo(() => {
    const labels = runLabels(props.runs);
    const map = new Map(props.runs.map((r, i) => [r.id, labels[i]]));
    return (id: string) => map.get(id) ?? shortId(id);
  }, [props.runs]);
  const paramAxes = data.dimensions.filter(
    d => d.kind === 'numeric' || (d.kind === 'categorical' && d.key !== 'run')
  ).length;
  return (
    <div
      className="mlops-CompareParcoords"
      data-testid="mlops-compare-parcoords"
      data-metric={props.metric}
    >
      {data.runIds.length === 0 ? (
        <EmptyInline>No run has a value of {props.metric}.</EmptyInline>
      ) : (
        <Plot
          label={`parcoords ${props.metric}`}
          dataKey={JSON.stringify(data)}
          themeVersion={props.themeVersion}
          figure={colors => parcoordsFigure(data, colors)}
        />
      )}
      <div className="mlops-CompareNotes mlops-Muted">
        {data.excluded.length > 0 && (
          <p className="mlops-CompareExcluded">
            {data.excluded.length === 1
              ? '1 run without'
              : `${data.excluded.length} runs without`}{' '}
            {props.metric} not drawn: {labelList(data.excluded.map(labelOf))}.
          </p>
        )}
        {paramAxes === 0 && <p>No parameter differs between the runs drawn.</p>}
        {data.constant.length > 0 && (
          <p title={data.constant.join('\n')}>
            Hidden, the same in every run: {labelList(data.constant, 8)}.
          </p>
        )}
        {data.omitted.length > 0 && (
          <p title={data.omitted.join('\n')}>
            {data.omitted.length} more parameters not drawn:{' '}
            {labelList(data.omitted, 8)}.
          </p>
        )}
      </div>
    </div>
  );
}

function historiesFigure(
  metric: string,
  traces: HistoryTrace[],
  colors: Colors
): { data: any[]; layout: Record<string, any> } {
  const layout = baseLayout('', colors);
  delete layout.title;
  layout.height = 320;
  layout.margin = { l: 56, r: 16, t: 16, b: 40 };
  layout.showlegend = true;
  layout.legend = {
    font: { color: colors.text, family: colors.font, size: 11 },
    bgcolor: 'rgba(0,0,0,0)'
  };
  layout.hovermode = 'closest';
  const steps = traces.flatMap(t => t.x);
  const span = steps.length ? Math.max(...steps) - Math.min(...steps) : 0;
  stepAxes(layout, span, metric, colors);
  const points = traces.reduce((n, t) => Math.max(n, t.x.length), 0);
  return {
    data: traces.map(t => ({
      type: 'scatter',
      mode: points <= 50 ? 'lines+markers' : 'lines',
      name: t.name,
      x: t.x,
      y: t.y,
      line: { width: 2 },
      marker: { size: 5 },
      hovertemplate: `%{fullData.name}<br>step %{x}<br>${escapeHover(metric)} = %{y:.6~g}<extra></extra>`
    })),
    layout
  };
}

/** Plotly templates read `%{…}` and HTML-like tags: keep a key literal. */
function escapeHover(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/%/g, '&#37;');
}

function HistoriesChart(props: {
  runs: RunDetail[];
  metric: string;
  histories: MetricHistory[] | null;
  themeVersion: number;
}): JSX.Element {
  const histories = props.histories;
  const result = React.useMemo(
    () => (histories ? historyTraces(props.runs, histories) : null),
    [props.runs, histories]
  );
  let content: React.ReactNode;
  if (!result) {
    content = <EmptyInline>Loading the history of {props.metric}…</EmptyInline>;
  } else if (!result.traces.length) {
    content = (
      <EmptyInline>No run has a history of {props.metric}.</EmptyInline>
    );
  } else {
    const labels = runLabels(props.runs);
    const labelOf = (id: string) =>
      labels[props.runs.findIndex(r => r.id === id)] ?? shortId(id);
    content = (
      <>
        <Plot
          label={`history ${props.metric}`}
          dataKey={JSON.stringify(result.traces)}
          themeVersion={props.themeVersion}
          figure={colors =>
            historiesFigure(props.metric, result.traces, colors)
          }
        />
        {result.missing.length > 0 && (
          <p className="mlops-CompareNotes mlops-Muted">
            No history of {props.metric} in:{' '}
            {labelList(result.missing.map(labelOf))}.
          </p>
        )}
      </>
    );
  }
  return (
    <div
      className="mlops-CompareHistories"
      data-testid="mlops-compare-histories"
      data-metric={props.metric}
    >
      {content}
    </div>
  );
}

const SECTION_TITLES: Record<DiffSection, string> = {
  param: 'Parameters',
  metric: 'Metrics',
  tag: 'Tags'
};

function DiffCell(props: {
  row: DiffRow;
  value: string | number | null;
}): JSX.Element {
  const { value } = props;
  if (value === null) {
    return (
      <td className="mlops-CompareMissing mlops-Muted" title="not logged">
        —
      </td>
    );
  }
  if (props.row.section === 'metric' && typeof value === 'number') {
    return (
      <td className="mlops-col-num" title={String(value)}>
        {formatMetric(value)}
      </td>
    );
  }
  return <td title={String(value)}>{String(value)}</td>;
}

function DiffTable(props: {
  runs: RunDetail[];
  openRun: (runId: string) => void;
}): JSX.Element {
  const [onlyDiffs, setOnlyDiffs] = React.useState(true);
  const rows = React.useMemo(
    () => diffRows(props.runs, { tags: true }),
    [props.runs]
  );
  const labels = runLabels(props.runs);
  const differing = rows.filter(r => r.differs).length;
  const shown = onlyDiffs ? rows.filter(r => r.differs) : rows;
  const sections = (['param', 'metric', 'tag'] as DiffSection[])
    .map(section => ({
      section,
      rows: shown.filter(r => r.section === section)
    }))
    .filter(group => group.rows.length > 0);
  const columns = props.runs.length + 1;
  return (
    <div className="mlops-CompareDiff">
      <div className="mlops-CompareToolbar">
        <span className="mlops-Muted mlops-CompareDiffCount">
          {differing} of {rows.length} {rows.length === 1 ? 'value' : 'values'}{' '}
          differ
        </span>
        <span className="mlops-Spacer" />
        <label className="mlops-Toggle mlops-CompareOnlyDiffs">
          <input
            type="checkbox"
            checked={onlyDiffs}
            onChange={ev => setOnlyDiffs(ev.target.checked)}
          />
          Only differences
        </label>
      </div>
      {rows.length === 0 ? (
        <EmptyInline>These runs logged no parameters or metrics.</EmptyInline>
      ) : shown.length === 0 ? (
        <EmptyInline>
          No differences: the runs have the same parameters, metrics and tags.
        </EmptyInline>
      ) : (
        <div className="mlops-CompareDiffScroll">
          <table
            className="mlops-Table mlops-CompareDiffTable"
            data-testid="mlops-compare-diff"
          >
            <thead>
              <tr>
                <th className="mlops-CompareKey">Key</th>
                {props.runs.map((run, i) => (
                  <th key={run.id} className="mlops-CompareRunCol">
                    <span className="mlops-CompareRunHead">
                      <StatusDot status={run.status} />
                      <RunLink
                        runId={run.id}
                        label={labels[i]}
                        openRun={props.openRun}
                      />
                    </span>
                  </th>
                ))}
              </tr>
            </thead>
            {sections.map(group => (
              <tbody key={group.section} data-section={group.section}>
                <tr className="mlops-CompareDiffGroup">
                  <td colSpan={columns}>
                    <span className="mlops-CompareDiffGroupTitle">
                      {SECTION_TITLES[group.section]}
                      <span className="mlops-Badge">{group.rows.length}</span>
                    </span>
                  </td>
                </tr>
                {group.rows.map(row => (
                  <tr
                    key={`${row.section}:${row.key}`}
                    className={`mlops-CompareDiffRow${row.differs ? ' mlops-mod-differs' : ''}`}
                    data-key={row.key}
                    data-section={row.section}
                  >
                    <td className="mlops-CompareKey" title={row.key}>
                      {row.key}
                    </td>
                    {row.values.map((value, i) => (
                      <DiffCell
                        key={props.runs[i].id}
                        row={row}
                        value={value}
                      />
                    ))}
                  </tr>
                ))}
              </tbody>
            ))}
          </table>
        </div>
      )}
    </div>
  );
}
