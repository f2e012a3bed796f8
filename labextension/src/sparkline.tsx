/**
 * Sparklines of a deployment's live traffic: a small dependency-free SVG `Sparkline`,
 * the deployment tab's `RequestStats` block (rate and p95 latency) and the compact
 * `RequestsSparkline` for a list row. Colours come from CSS classes on JupyterLab's
 * variables (style/sparkline.css), so light and dark themes both work.
 */
import * as React from 'react';

import type { RequestStats as RequestStatsData } from './client';
import {
  bucketTitle,
  formatLatency,
  formatRate,
  formatWindow,
  p95Series,
  rateSeries,
  seriesMax,
  sparklineGeometry,
  statsSummary,
  summaryTitle
} from './requeststats';

export interface SparklineProps {
  /** Oldest first; null (or a non-finite number) leaves a gap. */
  values: readonly (number | null)[];
  width: number;
  height: number;
  /** The accessible name (`aria-label`) and the chart's tooltip. */
  title: string;
  /** Extra classes, e.g. `mlops-mod-latency` for the latency colour. */
  className?: string;
  /** One tooltip per value, shown when hovering its slot. */
  pointTitles?: readonly string[];
  /** Shade the area under the line (default true). */
  area?: boolean;
  /** Include zero in the y scale (default true). */
  zero?: boolean;
}

/** A line of `values` in a `width` × `height` SVG, with gaps for nulls. */
export function Sparkline(props: SparklineProps): JSX.Element {
  const { width, height } = props;
  const g = sparklineGeometry(props.values, width, height, {
    zero: props.zero ?? true
  });
  const baseline = height - 2;
  const titles = props.pointTitles;
  return (
    <svg
      className={`mlops-Sparkline ${props.className ?? ''}`.trim()}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={props.title}
    >
      <title>{props.title}</title>
      {titles &&
        g.slots.map((slot, i) =>
          titles[i] ? (
            <rect
              key={i}
              className="mlops-SparklineSlot"
              x={slot.x}
              y={0}
              width={slot.width}
              height={height}
            >
              <title>{titles[i]}</title>
            </rect>
          ) : null
        )}
      <line
        className="mlops-SparklineBaseline"
        x1={0}
        x2={width}
        y1={baseline}
        y2={baseline}
      />
      {(props.area ?? true) && g.area && (
        <path className="mlops-SparklineArea" d={g.area} />
      )}
      {g.line && <path className="mlops-SparklineLine" d={g.line} />}
      {g.dots.map(p => (
        <circle
          key={p.index}
          className="mlops-SparklineDot"
          cx={p.x}
          cy={p.y}
          r={1.5}
        />
      ))}
      {g.last && (
        <circle
          className="mlops-SparklineLast"
          cx={g.last.x}
          cy={g.last.y}
          r={2}
        />
      )}
    </svg>
  );
}

export interface RequestStatsProps {
  /** `MlopsClient.deploymentStats(name)`; null while loading. */
  stats: RequestStatsData | null;
  /** Why the statistics could not be loaded (shown instead of them). */
  error?: string | null;
  /** Size of each sparkline (default 240 × 36). */
  width?: number;
  height?: number;
  className?: string;
}

/**
 * A deployment's traffic: "12.3 req/s · p95 45 ms" and two sparklines (request rate
 * and p95 latency per bucket) whose buckets have tooltips.
 */
export function RequestStats(props: RequestStatsProps): JSX.Element {
  const { stats } = props;
  const width = props.width ?? 240;
  const height = props.height ?? 36;
  const className = `mlops-RequestStats ${props.className ?? ''}`.trim();
  if (!stats) {
    return (
      <div className={className}>
        {props.error ? (
          <div className="mlops-FilterError mlops-RequestStatsError">
            {props.error}
          </div>
        ) : (
          <div className="mlops-Muted mlops-EmptyInline">
            Loading request statistics…
          </div>
        )}
      </div>
    );
  }
  const window = formatWindow(stats.window_seconds);
  const titles = stats.buckets.map(b => bucketTitle(b, stats.bucket_ms));
  const rates = rateSeries(stats);
  const p95 = p95Series(stats);
  const maxRate = seriesMax(rates);
  const maxP95 = seriesMax(p95);
  return (
    <div className={className}>
      {props.error && (
        <div className="mlops-FilterError mlops-RequestStatsError">
          {props.error}
        </div>
      )}
      <div className="mlops-RequestStatsSummary" title={summaryTitle(stats)}>
        {statsSummary(stats)}
      </div>
      <div className="mlops-RequestStatsCharts">
        <figure className="mlops-RequestStatsChart mlops-mod-rate">
          <figcaption className="mlops-RequestStatsCaption">
            Requests/s
            <span className="mlops-Muted"> max {formatRate(maxRate ?? 0)}</span>
          </figcaption>
          <Sparkline
            className="mlops-mod-rate"
            values={rates}
            width={width}
            height={height}
            title={`Request rate per ${formatWindow(stats.bucket_ms / 1000)} over the last ${window}`}
            pointTitles={titles}
          />
        </figure>
        <figure className="mlops-RequestStatsChart mlops-mod-latency">
          <figcaption className="mlops-RequestStatsCaption">
            p95 latency
            <span className="mlops-Muted"> max {formatLatency(maxP95)}</span>
          </figcaption>
          <Sparkline
            className="mlops-mod-latency"
            values={p95}
            width={width}
            height={height}
            title={`p95 latency of answered requests per ${formatWindow(stats.bucket_ms / 1000)} over the last ${window}`}
            pointTitles={titles}
          />
        </figure>
      </div>
      <div className="mlops-Muted mlops-Note mlops-RequestStatsNote">
        {stats.requests
          ? `${stats.requests.toLocaleString('en-US')} requests in the last ${window}`
          : `No requests in the last ${window}`}{' '}
        ({formatWindow(stats.bucket_ms / 1000)} buckets; shadow copies not
        counted).
      </div>
    </div>
  );
}

export interface RequestsSparklineProps {
  /** `MlopsClient.deploymentStats(name, {window: 900, buckets: 15})`, say; null: nothing shown. */
  stats: RequestStatsData | null;
  /** Size of the sparkline (default 56 × 14). */
  width?: number;
  height?: number;
  className?: string;
}

/** A list row's traffic: a small request-rate sparkline and the live rate. */
export function RequestsSparkline(
  props: RequestsSparklineProps
): JSX.Element | null {
  const { stats } = props;
  if (!stats) {
    return null;
  }
  const className = `mlops-RequestsSparkline ${props.className ?? ''}`.trim();
  return (
    <span className={className} title={summaryTitle(stats)}>
      <Sparkline
        className="mlops-mod-rate"
        values={rateSeries(stats)}
        width={props.width ?? 56}
        height={props.height ?? 14}
        title={`Request rate over the last ${formatWindow(stats.window_seconds)}`}
      />
      <span className="mlops-RequestsSparklineRate">
        {formatRate(stats.recent_rate)}
      </span>
    </span>
  );
}
