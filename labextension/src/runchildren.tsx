/**
 * The run tab's blocks for the parents of other runs (sweeps, pipelines, AutoML,
 * federated learning): their stored charts (`sweep/summary.json`, `charts/*.json`,
 * redrawn in the theme) and the child runs table (the tags that name a trial or
 * round, the params that differ between them, their metrics, each row opening its
 * run).
 */
import * as React from 'react';

import { Run } from './client';
import { onEnter, StatusDot } from './common';
import { FigureCard } from './figurecard';
import {
  formatDuration,
  formatMetric,
  formatParam,
  runDuration
} from './format';
import { ChildColumns, childColumns, ChildTagColumn } from './runfamily';
import { StoredFigure } from './storedfigure';

/** A run's stored chart, loaded. */
export interface LoadedFigure {
  path: string;
  sha: string;
  figure: StoredFigure;
  fallbackTitle: string;
  sweep: boolean;
}

/** A run's stored charts: the sweep's full width, the others two by two. */
export function RunCharts(props: {
  figures: LoadedFigure[];
  themeVersion: number;
}): JSX.Element {
  return (
    <div className="mlops-RunCharts">
      {props.figures.map(f => (
        <FigureCard
          key={f.path}
          figure={f.figure}
          dataKey={f.sha}
          themeVersion={props.themeVersion}
          fallbackTitle={f.fallbackTitle}
          source={f.path}
          className={f.sweep ? 'mlops-SweepChart' : 'mlops-RunChart'}
        />
      ))}
    </div>
  );
}

/** The children of a run: one row each, what tells them apart, their metrics. */
export function ChildRunsTable(props: {
  runs: Run[];
  /** The best child of a sweep (starred). */
  bestId: string | null;
  /** Tags shown first (an AutoML trial's number and state, a round's number). */
  tagColumns?: ChildTagColumn[];
  openRun: (runId: string) => void;
}): JSX.Element {
  const columns: ChildColumns = childColumns(props.runs);
  const tagColumns = props.tagColumns ?? [];
  const now = Date.now();
  return (
    <div className="mlops-TableScroll mlops-ChildRunsScroll">
      <table className="mlops-Table mlops-ChildRuns" aria-label="Child runs">
        <thead>
          <tr>
            <th className="mlops-col-status" aria-label="Status" />
            <th>Name</th>
            {tagColumns.map(c => (
              <th
                key={`t-${c.tag}`}
                className="mlops-col-tag"
                title={`tag ${c.tag}`}
              >
                {c.label}
              </th>
            ))}
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
                    <span
                      className="mlops-BestChild"
                      title="the best of these runs"
                    >
                      ★ best
                    </span>
                  )}
                </td>
                {tagColumns.map(c => (
                  <td
                    key={`t-${c.tag}`}
                    className="mlops-col-tag"
                    data-tag={c.tag}
                  >
                    {child.tags?.[c.tag] ?? '—'}
                  </td>
                ))}
                {columns.params.map(k => (
                  <td
                    key={`p-${k}`}
                    className="mlops-col-param"
                    title={child.params?.[k] ?? ''}
                  >
                    {formatParam(child.params?.[k])}
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
