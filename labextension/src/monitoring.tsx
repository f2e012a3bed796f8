/**
 * The Monitoring section of a deployment tab: window selector and "Check drift
 * now", the drift verdict, the drift heatmap over the recorded reports, the columns
 * by severity with a column's distributions, performance per version from
 * ground-truth labels, the deployment's alerts and its alert rules.
 */
import * as React from 'react';

import { AlertList, AlertRulesView } from './alerts';
import { AlertsModel } from './alertsmodel';
import { ColumnDrift, DriftReport } from './client';
import { EmptyInline, ErrorBanner, onEnter } from './common';
import {
  bySeverity,
  DRIFT_WINDOWS,
  formatStatistic,
  heatmapMatrix,
  higherIsBetter,
  isTested,
  metricLabel,
  performanceMetrics,
  performanceSeries,
  ruleText,
  testLabel,
  windowLabel
} from './drift';
import { formatShortTime, formatTime } from './format';
import { MonitoringModel, ShownReport } from './monitoringmodel';
import { formatShare } from './scales';
import {
  DistributionChart,
  DriftHeatmap,
  HeatLegend,
  PerformanceChart
} from './svgcharts';
import { formatVersion } from './registry';
import { RulesModel } from './rulesmodel';

const WINDOW_MS: Record<string, number> = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000
};

export function feedbackSnippet(deployment: string): string {
  return `import mlops_jlab as mlops
answer = dep.predict(X_batch)   # {"predictions": [...], "request_id": "..."}
# later, when the true labels are known (one list per request):
mlops.log_feedback("${deployment}", [answer["request_id"]], [list(y_batch)])`;
}

export function MonitoringSection(props: {
  model: MonitoringModel;
  alerts: AlertsModel;
  rules: RulesModel;
  openVersion: (version: number) => void;
  openModelVersion: (name: string, version: number) => void;
  openRun: (runId: string) => void;
}): JSX.Element {
  const { model } = props;
  return (
    <div className="mlops-Monitoring">
      <MonitoringToolbar model={model} />
      <ReportView model={model} openVersion={props.openVersion} />
      <h4 className="mlops-SubTitle">Drift over time</h4>
      <HistoryView model={model} />
      {model.shown && model.shown.report.summary.current_rows > 0 && (
        <>
          <h4 className="mlops-SubTitle">Columns</h4>
          <ColumnsView model={model} shown={model.shown} />
        </>
      )}
      <h4 className="mlops-SubTitle">Performance on labelled predictions</h4>
      <PerformanceView model={model} />
      <h4 className="mlops-SubTitle mlops-AlertsTitle">Alerts</h4>
      <div className="mlops-DeploymentAlerts">
        <AlertList
          model={props.alerts}
          openVersion={props.openModelVersion}
          openRun={props.openRun}
          empty={
            <EmptyInline>No open alerts on {model.deployment}.</EmptyInline>
          }
        />
      </div>
      <h4 className="mlops-SubTitle mlops-RulesTitle">Alert rules</h4>
      <AlertRulesView model={props.rules} />
    </div>
  );
}

function MonitoringToolbar({ model }: { model: MonitoringModel }): JSX.Element {
  const computing = model.computing;
  return (
    <div className="mlops-MonitoringToolbar">
      <span
        className="mlops-AliasLabel"
        id={`mlops-window-${model.deployment}`}
      >
        Window
      </span>
      <div
        className="mlops-Segmented"
        role="radiogroup"
        aria-labelledby={`mlops-window-${model.deployment}`}
      >
        {DRIFT_WINDOWS.map(w => (
          <button
            key={w}
            className={`mlops-SegmentedButton${w === model.window ? ' mlops-mod-active' : ''}`}
            role="radio"
            aria-checked={w === model.window}
            title={`Compare the ${windowLabel(w)} of traffic with the training data`}
            onClick={() => void model.setWindow(w)}
          >
            {w}
          </button>
        ))}
      </div>
      <button
        className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton mlops-CheckDrift"
        disabled={computing !== null}
        title={`Compute drift over the ${windowLabel(model.window)} and record it in the history`}
        onClick={() => void model.checkDrift()}
      >
        {computing === 'check' ? 'Checking…' : 'Check drift now'}
      </button>
      {computing === 'preview' && (
        <span className="mlops-Muted mlops-Note mlops-Computing">
          Computing drift over the {windowLabel(model.window)}…
        </span>
      )}
    </div>
  );
}

function ReportView(props: {
  model: MonitoringModel;
  openVersion: (version: number) => void;
}): JSX.Element | null {
  const { model } = props;
  const error = model.reportError;
  if (error) {
    return error.kind === 'reference' ? (
      <div
        className="mlops-Banner mlops-Banner-warn mlops-DriftError"
        role="alert"
      >
        <strong>Drift cannot be computed for this deployment</strong>
        <p>{error.message}</p>
      </div>
    ) : (
      <ErrorBanner role="alert">
        <span className="mlops-DriftError">{error.message}</span>
      </ErrorBanner>
    );
  }
  if (!model.shown) {
    return model.computing ? null : (
      <EmptyInline>No drift report yet.</EmptyInline>
    );
  }
  return (
    <DriftSummaryView
      shown={model.shown}
      stale={model.computing !== null}
      openVersion={props.openVersion}
    />
  );
}

function DriftSummaryView(props: {
  shown: ShownReport;
  stale: boolean;
  openVersion: (version: number) => void;
}): JSX.Element {
  const { report, window, computedAt, recorded } = props.shown;
  const s = report.summary;
  const version = report.context?.version;
  const empty = s.current_rows === 0;
  const verdict = empty ? 'empty' : s.dataset_drift ? 'drift' : 'steady';
  const threshold = s.thresholds?.drift_share;
  return (
    <div
      className={`mlops-DriftSummary mlops-verdict-${verdict}${props.stale ? ' mlops-mod-stale' : ''}`}
      data-verdict={verdict}
    >
      <div className="mlops-DriftVerdict">
        <span className="mlops-DriftVerdictIcon" aria-hidden="true">
          {empty ? '○' : s.dataset_drift ? '▲' : '✓'}
        </span>
        {empty
          ? `No traffic in the ${windowLabel(window)}`
          : s.dataset_drift
            ? 'Dataset drift detected'
            : 'No dataset drift'}
      </div>
      {empty ? (
        <div className="mlops-Note mlops-Muted">
          No predictions were logged in the {windowLabel(window)}: nothing to
          compare. Send requests, or choose a longer window.
        </div>
      ) : (
        <dl className="mlops-RunFacts mlops-DriftFacts">
          <div>
            <dt>Drifted columns</dt>
            <dd className="mlops-DriftShare">
              {s.drifted} of {s.tested} ({formatShare(s.share)})
            </dd>
          </div>
          <div>
            <dt>Dataset drift at</dt>
            <dd>≥ {formatShare(threshold ?? 0.5)} of columns</dd>
          </div>
          <div>
            <dt>Rows compared</dt>
            <dd className="mlops-DriftRows">
              {s.current_rows.toLocaleString()} current ·{' '}
              {s.reference_rows.toLocaleString()} reference
            </dd>
          </div>
          <div>
            <dt>Reference</dt>
            <dd>
              training data of{' '}
              {version ? (
                <a
                  className="mlops-Link mlops-DriftReference"
                  href="#"
                  title={`Open ${report.context.model} ${formatVersion(version)}`}
                  onClick={ev => {
                    ev.preventDefault();
                    props.openVersion(version);
                  }}
                >
                  {report.context.model} {formatVersion(version)}
                </a>
              ) : (
                '—'
              )}
            </dd>
          </div>
        </dl>
      )}
      <div className="mlops-Note mlops-Muted mlops-DriftComputed">
        Computed {formatTime(computedAt)} over the {windowLabel(window)} (
        {s.mode === 'streamed' ? 'streamed, bounded memory' : 'exact'}) ·{' '}
        {recorded ? (
          <span className="mlops-DriftRecorded">recorded in the history</span>
        ) : (
          'preview, not recorded: “Check drift now” records it'
        )}
      </div>
    </div>
  );
}

function HistoryView({ model }: { model: MonitoringModel }): JSX.Element {
  const history = model.history;
  const matrix = React.useMemo(
    () => (history ? heatmapMatrix(history, formatTime) : null),
    [history]
  );
  if (model.historyError && !history) {
    return <div className="mlops-FilterError">{model.historyError}</div>;
  }
  if (!matrix) {
    return <EmptyInline>Loading…</EmptyInline>;
  }
  if (!matrix.reports.length) {
    return (
      <EmptyInline>
        No recorded drift reports yet: “Check drift now” records one (so does{' '}
        <code>mlops.drift_report(&quot;{model.deployment}&quot;)</code> in a
        notebook).
      </EmptyInline>
    );
  }
  const now = Date.now();
  return (
    <div className="mlops-DriftHistory">
      <div className="mlops-Note mlops-Muted">
        {matrix.reports.length} recorded report
        {matrix.reports.length === 1 ? '' : 's'}, oldest left. Hover a cell for
        its test; click a row for the column’s distributions.
      </div>
      <DriftHeatmap
        matrix={matrix}
        selected={model.selectedColumn}
        onSelect={column => model.selectColumn(column)}
        formatTime={formatTime}
        formatShortTime={ms => formatShortTime(ms, now)}
      />
      <HeatLegend />
    </div>
  );
}

function ColumnsView(props: {
  model: MonitoringModel;
  shown: ShownReport;
}): JSX.Element {
  const { model, shown } = props;
  const columns = React.useMemo(
    () => bySeverity(shown.report.columns),
    [shown.report]
  );
  const selected = model.selectedColumn;
  const column = columns.find(c => c.column === selected) ?? null;
  return (
    <div className="mlops-MonitoringColumns">
      <div className="mlops-TableScroll mlops-DriftTableScroll">
        <table
          className="mlops-Table mlops-DriftTable"
          aria-label="Drift by column"
        >
          <thead>
            <tr>
              <th>Column</th>
              <th>Test</th>
              <th className="mlops-col-num">Statistic</th>
              <th className="mlops-col-num">Threshold</th>
              <th>Drift</th>
              <th className="mlops-col-num">PSI</th>
              <th>Notes</th>
            </tr>
          </thead>
          <tbody>
            {columns.map(c => (
              <ColumnRow
                key={c.column}
                column={c}
                selected={c.column === selected}
                onSelect={() => model.selectColumn(c.column)}
              />
            ))}
          </tbody>
        </table>
      </div>
      <div className="mlops-DistributionPanel">
        {column ? (
          <ColumnDetail
            column={column}
            report={shown.report}
            window={shown.window}
          />
        ) : (
          <EmptyInline>Click a column to see its distributions.</EmptyInline>
        )}
      </div>
    </div>
  );
}

function ColumnRow(props: {
  column: ColumnDrift;
  selected: boolean;
  onSelect: () => void;
}): JSX.Element {
  const c = props.column;
  const tested = isTested(c);
  return (
    <tr
      className={`mlops-DriftRow${props.selected ? ' mlops-mod-current' : ''}${c.drifted ? ' mlops-mod-drifted' : ''}`}
      data-column={c.column}
      tabIndex={0}
      aria-selected={props.selected}
      title={`Show the distributions of ${c.column}`}
      onClick={props.onSelect}
      onKeyDown={onEnter(props.onSelect)}
    >
      <td className="mlops-DriftColumn">
        <span className="mlops-DriftColumnName">{c.column}</span>
        <span className="mlops-Muted mlops-DriftKind">{c.kind}</span>
      </td>
      <td title={testLabel(c.test)}>{c.test}</td>
      <td className="mlops-col-num mlops-DriftStatistic">
        {formatStatistic(c.statistic, c.test)}
      </td>
      <td
        className="mlops-col-num"
        title={`drift when ${ruleText(c.test, c.threshold)}`}
      >
        {c.threshold}
      </td>
      <td>
        <DriftFlag drifted={c.drifted} tested={tested} />
      </td>
      <td
        className={`mlops-col-num${c.psi_significant ? ' mlops-mod-significant' : ''}`}
        title={
          c.psi_significant ? 'PSI ≥ 0.2: a significant shift' : 'PSI below 0.2'
        }
      >
        {formatStatistic(c.psi, 'psi')}
        {c.psi_significant ? ' ⚠' : ''}
      </td>
      <td className="mlops-DriftNotes" title={c.notes.join('\n')}>
        {c.notes.join('; ')}
      </td>
    </tr>
  );
}

/** The drift badge of a column: drifted, ok or not tested. */
export function DriftFlag(props: {
  drifted: boolean;
  tested: boolean;
}): JSX.Element {
  const state = !props.tested ? 'untested' : props.drifted ? 'drifted' : 'ok';
  return (
    <span className={`mlops-DriftFlag mlops-drift-${state}`} data-state={state}>
      {state === 'untested' ? 'not tested' : state}
    </span>
  );
}

function ColumnDetail(props: {
  column: ColumnDrift;
  report: DriftReport;
  window: string;
}): JSX.Element {
  const c = props.column;
  const version = props.report.context?.version;
  return (
    <div className="mlops-ColumnDetail" data-column={c.column}>
      <div className="mlops-ColumnDetailTitle">
        <span className="mlops-ColumnDetailName">{c.column}</span>
        <DriftFlag drifted={c.drifted} tested={isTested(c)} />
      </div>
      <div className="mlops-Note mlops-Muted">
        {isTested(c)
          ? `${testLabel(c.test)} ${formatStatistic(c.statistic, c.test)} (drift when ${ruleText(c.test, c.threshold)}) · PSI ${formatStatistic(c.psi, 'psi')}`
          : 'not tested'}
        {c.bounds
          ? ` · streamed: exact value within ${formatStatistic(c.bounds[0], c.test)} – ${formatStatistic(c.bounds[1], c.test)}`
          : ''}
      </div>
      <DistributionChart
        column={c}
        referenceLabel={`training data${version ? ` (${formatVersion(version)})` : ''}`}
        currentLabel={windowLabel(props.window)}
      />
      {c.new_categories.length > 0 && (
        <div className="mlops-Note">
          New in current:{' '}
          {c.new_categories.map(v => (
            <code key={v} className="mlops-NewCategory">
              {v}
            </code>
          ))}
        </div>
      )}
    </div>
  );
}

function PerformanceView({ model }: { model: MonitoringModel }): JSX.Element {
  const points = model.performance;
  const metrics = React.useMemo(
    () => performanceMetrics(points ?? []),
    [points]
  );
  const metric =
    model.metric && (metrics as string[]).includes(model.metric)
      ? model.metric
      : (metrics[0] ?? null);
  const series = React.useMemo(
    () => (metric ? performanceSeries(points ?? [], metric) : []),
    [points, metric]
  );
  if (model.performanceError && !points) {
    return <div className="mlops-FilterError">{model.performanceError}</div>;
  }
  if (!points) {
    return <EmptyInline>Loading…</EmptyInline>;
  }
  if (!metric || !series.length) {
    return (
      <div className="mlops-PerformanceEmpty">
        <p className="mlops-Muted">
          No labelled predictions in the {windowLabel(model.window)}.
          Performance (accuracy and F1, or RMSE and MAE, per version) needs
          ground truth: send the true labels of logged predictions by the{' '}
          <code>request_id</code> of each answer.
        </p>
        <pre className="mlops-Snippet">{feedbackSnippet(model.deployment)}</pre>
      </div>
    );
  }
  const end = Date.now();
  const span = WINDOW_MS[model.window] ?? WINDOW_MS['1h'];
  return (
    <div className="mlops-PerformanceView">
      <div className="mlops-MonitoringToolbar">
        <div className="mlops-Segmented" role="radiogroup" aria-label="Metric">
          {metrics.map(m => (
            <button
              key={m}
              className={`mlops-SegmentedButton${m === metric ? ' mlops-mod-active' : ''}`}
              role="radio"
              aria-checked={m === metric}
              onClick={() => model.setMetric(m)}
            >
              {metricLabel(m)}
            </button>
          ))}
        </div>
        <span className="mlops-Muted mlops-Note">
          {higherIsBetter(metric) ? 'higher is better' : 'lower is better'} ·
          per version, shadow versions dashed
        </span>
      </div>
      <PerformanceChart
        series={series}
        metric={metric}
        metricLabel={metricLabel(metric)}
        domain={[end - span, end]}
        formatTime={formatTime}
      />
    </div>
  );
}
