/**
 * The run tab's blocks for the parents of other runs (sweeps, pipelines): the
 * sweep's chart (the plotly figure it stored as `sweep/summary.json`, redrawn in the
 * theme) and the child runs table (the params that differ between them, their
 * metrics, each row opening its run).
 */
import * as React from 'react';

import { Run } from './client';
import { Plot } from './chart';
import { onEnter, StatusDot } from './common';
import { formatDuration, formatMetric, runDuration } from './format';
import {
  ChildColumns,
  childColumns,
  StoredFigure,
  themedFigure
} from './runfamily';

/** The sweep's stored chart. */
export function SweepChart(props: {
  figure: StoredFigure;
  /** The artifact's sha256: redraw only when the stored figure changed. */
  sha: string;
  themeVersion: number;
}): JSX.Element {
  return (
    <div className="mlops-SweepChart">
      <Plot
        label="sweep"
        dataKey={props.sha}
        themeVersion={props.themeVersion}
        figure={colors => themedFigure(props.figure, colors)}
      />
    </div>
  );
}

/** The children of a run: one row each, what tells them apart, their metrics. */
export function ChildRunsTable(props: {
  runs: Run[];
  /** The best child of a sweep (starred). */
  bestId: string | null;
  openRun: (runId: string) => void;
}): JSX.Element {
  const columns: ChildColumns = childColumns(props.runs);
  const now = Date.now();
  return (
    <div className="mlops-TableScroll mlops-ChildRunsScroll">
      <table className="mlops-Table mlops-ChildRuns" aria-label="Child runs">
        <thead>
          <tr>
            <th className="mlops-col-status" aria-label="Status" />
            <th>Name</th>
            {columns.params.map(k => (
              <th
                key={`p-${k}`}
                className="mlops-col-param"
                title={`param ${k}`}
              >
                {k}
              </th>
            ))}
            {columns.metrics.map(k => (
              <th
                key={`m-${k}`}
                className="mlops-col-num mlops-col-metric"
                title={`metric ${k}`}
              >
                {k}
              </th>
            ))}
            <th className="mlops-col-num">Duration</th>
          </tr>
        </thead>
        <tbody>
          {props.runs.map(child => {
            const open = () => props.openRun(child.id);
            const best = child.id === props.bestId;
            return (
              <tr
                key={child.id}
                className={`mlops-ChildRunRow${best ? ' mlops-mod-best' : ''}`}
                data-run-id={child.id}
                tabIndex={0}
                title={`Open run ${child.name || child.id} (${child.status})`}
                onClick={open}
                onKeyDown={onEnter(open)}
              >
                <td className="mlops-col-status">
                  <StatusDot status={child.status} />
                </td>
                <td className="mlops-ChildRunName">
                  <span className="mlops-Link">{child.name || child.id}</span>
                  {best && (
                    <span className="mlops-BestChild" title="best of the sweep">
                      ★ best
                    </span>
                  )}
                </td>
                {columns.params.map(k => (
                  <td
                    key={`p-${k}`}
                    className="mlops-col-param"
                    title={child.params?.[k] ?? ''}
                  >
                    {child.params?.[k] ?? '—'}
                  </td>
                ))}
                {columns.metrics.map(k => {
                  const value = child.metrics?.[k];
                  return (
                    <td
                      key={`m-${k}`}
                      className="mlops-col-num mlops-col-metric"
                      title={value === undefined ? '' : String(value)}
                    >
                      {value === undefined ? '—' : formatMetric(value)}
                    </td>
                  );
                })}
                <td className="mlops-col-num">
                  {formatDuration(runDuration(child, now))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {(columns.hiddenParams > 0 || columns.hiddenMetrics > 0) && (
        <div className="mlops-Muted mlops-Note">
          {[
            columns.hiddenParams
              ? `${columns.hiddenParams} more param${columns.hiddenParams === 1 ? '' : 's'}`
              : '',
            columns.hiddenMetrics
              ? `${columns.hiddenMetrics} more metric${columns.hiddenMetrics === 1 ? '' : 's'}`
              : ''
          ]
            .filter(Boolean)
            .join(' and ')}{' '}
          not shown: compare the runs for all of them.
        </div>
      )}
    </div>
  );
}
