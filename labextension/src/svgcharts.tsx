/**
 * Small SVG charts of the Monitoring section: the drift heatmap (columns × reports),
 * a column's reference vs current distribution, and performance lines per version.
 * Colours come from CSS classes on JupyterLab's variables (light and dark themes);
 * tooltips are SVG `<title>` elements.
 */
import * as React from 'react';

import { ColumnDrift } from './client';
import {
  distributionBins,
  HEAT_LEGEND,
  HeatLevel,
  HeatmapMatrix,
  PerformanceSeries,
  reportTitle
} from './drift';
import { formatMetric } from './format';
import {
  formatShare,
  formatTick,
  linearScale,
  niceStep,
  niceTicks,
  timeTicks
} from './scales';

/** The width of an element, followed as it resizes. */
export function useWidth<T extends HTMLElement>(
  fallback = 640
): [React.RefObject<T>, number] {
  const ref = React.useRef<T>(null);
  const [width, setWidth] = React.useState(fallback);
  React.useLayoutEffect(() => {
    const node = ref.current;
    if (!node) {
      return;
    }
    const measure = () => {
      const next = Math.floor(node.clientWidth);
      if (next > 0) {
        setWidth(w => (w === next ? w : next));
      }
    };
    measure();
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(measure);
    observer.observe(node);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

/** Approximate width of a label in the 11px UI font (to size margins). */
function textWidth(text: string, px = 6.4): number {
  return text.length * px;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

function heatClass(level: HeatLevel): string {
  return `mlops-heat mlops-heat-${level}`;
}

/** The colour key of the heatmap. */
export function HeatLegend(): JSX.Element {
  return (
    <div className="mlops-ChartLegend mlops-HeatLegend" aria-label="Legend">
      {HEAT_LEGEND.map(item => (
        <span key={String(item.level)} className="mlops-LegendItem">
          <svg width="12" height="12" aria-hidden="true">
            <rect
              className={heatClass(item.level)}
              x="0.5"
              y="0.5"
              width="11"
              height="11"
              rx="2"
            />
          </svg>
          {item.label}
        </span>
      ))}
    </div>
  );
}

/**
 * Drift over time: one row per data column, one column per recorded report (oldest
 * left), plus a "dataset" row with the share of drifted columns. Clicking a row
 * selects its data column.
 */
export function DriftHeatmap(props: {
  matrix: HeatmapMatrix;
  selected: string | null;
  onSelect: (column: string) => void;
  formatTime: (ms: number) => string;
  formatShortTime: (ms: number) => string;
}): JSX.Element {
  const { matrix } = props;
  const [ref, width] = useWidth<HTMLDivElement>();
  const n = matrix.reports.length;
  const longest = Math.max(7, ...matrix.columns.map(c => c.length));
  const maxChars = 26;
  const labelW =
    Math.min(textWidth('x'.repeat(maxChars)), textWidth('x'.repeat(longest))) +
    14;
  const cellW = Math.max(
    12,
    Math.min(64, Math.floor((width - labelW - 12) / Math.max(1, n)))
  );
  const cellH = matrix.columns.length > 24 ? 14 : 18;
  const gap = 2;
  const top = 8;
  const datasetY = top;
  const gridY = datasetY + cellH + 8;
  const gridH = matrix.columns.length * cellH;
  const axisY = gridY + gridH + 4;
  const plotW = n * cellW;
  const height = axisY + 20;
  const svgW = labelW + plotW + 12;
  // Time labels: as many as fit, evenly spread, the newest always shown.
  const every = Math.max(1, Math.ceil(58 / cellW));
  const labelled = matrix.reports
    .map((_, i) => i)
    .filter(i => (n - 1 - i) % every === 0);
  return (
    <div ref={ref} className="mlops-ChartBox mlops-HeatmapBox">
      <svg
        className="mlops-Svg mlops-Heatmap"
        width={svgW}
        height={height}
        role="img"
        aria-label={`Drift of ${matrix.columns.length} columns over ${n} recorded reports`}
      >
        <g className="mlops-HeatDataset">
          <text
            className="mlops-HeatRowLabel mlops-mod-dataset"
            x={labelW - 8}
            y={datasetY + cellH / 2}
            dy="0.35em"
            textAnchor="end"
          >
            dataset
          </text>
          {matrix.reports.map((r, i) => (
            <rect
              key={i}
              className={`${heatClass(r.dataset_drift ? 3 : r.share > 0 ? 1 : 0)} mlops-HeatShare`}
              data-dataset-drift={r.dataset_drift ? 'true' : 'false'}
              x={labelW + i * cellW + gap / 2}
              y={datasetY}
              width={cellW - gap}
              height={cellH}
              rx="2"
            >
              <title>{reportTitle(r, props.formatTime)}</title>
            </rect>
          ))}
        </g>
        {matrix.columns.map((column, row) => {
          const y = gridY + row * cellH;
          const selected = column === props.selected;
          return (
            <g
              key={column}
              className={`mlops-HeatRow${selected ? ' mlops-mod-selected' : ''}`}
              data-column={column}
              role="button"
              tabIndex={0}
              aria-label={`Show the distributions of ${column}`}
              onClick={() => props.onSelect(column)}
              onKeyDown={ev => {
                if (ev.key === 'Enter' || ev.key === ' ') {
                  ev.preventDefault();
                  props.onSelect(column);
                }
              }}
            >
              <rect
                className="mlops-HeatRowBand"
                x={0}
                y={y}
                width={labelW + plotW + 4}
                height={cellH}
              />
              <text
                className="mlops-HeatRowLabel"
                x={labelW - 8}
                y={y + cellH / 2}
                dy="0.35em"
                textAnchor="end"
              >
                <title>{column}</title>
                {truncate(column, maxChars)}
              </text>
              {matrix.cells[row].map((cell, i) => (
                <rect
                  key={i}
                  className={`${heatClass(cell.level)} mlops-HeatCell`}
                  data-level={String(cell.level)}
                  x={labelW + i * cellW + gap / 2}
                  y={y + gap / 2}
                  width={cellW - gap}
                  height={cellH - gap}
                  rx="2"
                >
                  <title>{cell.title}</title>
                </rect>
              ))}
            </g>
          );
        })}
        <g className="mlops-Axis">
          {labelled.map(i => (
            <text
              key={i}
              x={labelW + i * cellW + cellW / 2}
              y={axisY + 10}
              textAnchor={
                n === 1
                  ? 'middle'
                  : i === n - 1 && cellW < 40
                    ? 'end'
                    : 'middle'
              }
            >
              {props.formatShortTime(matrix.reports[i].computed_at)}
            </text>
          ))}
        </g>
      </svg>
    </div>
  );
}

const DIST_HEIGHT = 230;

/**
 * A column's distribution in the reference (training data) and the current window:
 * overlaid histograms (numeric) or paired horizontal bars per category.
 */
export function DistributionChart(props: {
  column: ColumnDrift;
  referenceLabel: string;
  currentLabel: string;
}): JSX.Element {
  const [ref, width] = useWidth<HTMLDivElement>(480);
  const shaped = distributionBins(props.column.distribution);
  const legend = (
    <div className="mlops-ChartLegend">
      <span className="mlops-LegendItem">
        <span className="mlops-Swatch mlops-mod-reference" />
        reference: {props.referenceLabel}
      </span>
      <span className="mlops-LegendItem">
        <span className="mlops-Swatch mlops-mod-current" />
        current: {props.currentLabel}
      </span>
    </div>
  );
  if (!shaped) {
    return (
      <div ref={ref} className="mlops-ChartBox">
        <div className="mlops-Muted mlops-EmptyInline">
          No distribution: the column could not be tested
          {props.column.notes.length
            ? ` (${props.column.notes.join('; ')})`
            : ''}
          .
        </div>
      </div>
    );
  }
  return (
    <div ref={ref} className="mlops-ChartBox mlops-DistributionBox">
      {legend}
      {shaped.kind === 'histogram' ? (
        <HistogramSvg
          column={props.column.column}
          bins={shaped.bins}
          max={shaped.max}
          width={width}
        />
      ) : (
        <CategoryBarsSvg
          column={props.column.column}
          bins={shaped.bins}
          max={shaped.max}
          width={width}
        />
      )}
    </div>
  );
}

type Bins = NonNullable<ReturnType<typeof distributionBins>>['bins'];

function HistogramSvg(props: {
  column: string;
  bins: Bins;
  max: number;
  width: number;
}): JSX.Element {
  const { bins } = props;
  const yTicks = niceTicks(0, props.max || 0.01, 4);
  const yTop = yTicks[yTicks.length - 1];
  const yLabels = yTicks.map(t => formatShare(t));
  const margin = {
    l: Math.max(...yLabels.map(l => textWidth(l))) + 12,
    r: 14,
    t: 8,
    b: 36
  };
  const w = Math.max(240, props.width);
  const h = DIST_HEIGHT;
  const x0 = bins[0].x0!;
  const x1 = bins[bins.length - 1].x1!;
  const xTicks = niceTicks(
    x0,
    x1,
    Math.max(3, Math.floor((w - margin.l) / 70))
  );
  const step = niceStep(x1 - x0, Math.max(3, Math.floor((w - margin.l) / 70)));
  const x = linearScale([x0, x1], [margin.l, w - margin.r]);
  const y = linearScale([0, yTop], [h - margin.b, margin.t]);
  // The current window as a step outline over the reference's filled bars.
  let outline = '';
  bins.forEach((b, i) => {
    const left = x(b.x0!);
    const right = x(b.x1!);
    const top = y(b.current);
    outline += i === 0 ? `M${left},${y(0)}L${left},${top}` : `L${left},${top}`;
    outline += `L${right},${top}`;
    if (i === bins.length - 1) {
      outline += `L${right},${y(0)}`;
    }
  });
  return (
    <svg
      className="mlops-Svg mlops-Distribution mlops-mod-histogram"
      width={w}
      height={h}
      role="img"
      aria-label={`Distribution of ${props.column}: reference and current`}
    >
      <YGrid
        ticks={yTicks}
        labels={yLabels}
        y={y}
        x0={margin.l}
        x1={w - margin.r}
      />
      {bins.map((b, i) => (
        <rect
          key={i}
          className="mlops-Bar mlops-mod-reference"
          x={x(b.x0!) + 0.5}
          y={y(b.reference)}
          width={Math.max(0.5, x(b.x1!) - x(b.x0!) - 1)}
          height={Math.max(0, y(0) - y(b.reference))}
        />
      ))}
      <path className="mlops-CurrentArea" d={`${outline}Z`} />
      <path className="mlops-CurrentLine" d={outline} />
      {bins.map((b, i) => (
        <rect
          key={i}
          className="mlops-HoverBand"
          x={x(b.x0!)}
          y={margin.t}
          width={Math.max(1, x(b.x1!) - x(b.x0!))}
          height={h - margin.b - margin.t}
        >
          <title>{`${props.column} ${b.label}\nreference ${formatShare(b.reference)}\ncurrent ${formatShare(b.current)}`}</title>
        </rect>
      ))}
      <g className="mlops-Axis">
        <line x1={margin.l} x2={w - margin.r} y1={y(0)} y2={y(0)} />
        {xTicks
          .filter(t => t >= x0 && t <= x1)
          .map(t => (
            <g key={t}>
              <line x1={x(t)} x2={x(t)} y1={y(0)} y2={y(0) + 4} />
              <text x={x(t)} y={y(0) + 15} textAnchor="middle">
                {formatTick(t, step)}
              </text>
            </g>
          ))}
        <text
          className="mlops-AxisTitle"
          x={(margin.l + w - margin.r) / 2}
          y={h - 4}
          textAnchor="middle"
        >
          {props.column}
        </text>
      </g>
    </svg>
  );
}

function CategoryBarsSvg(props: {
  column: string;
  bins: Bins;
  max: number;
  width: number;
}): JSX.Element {
  const { bins } = props;
  const labels = bins.map(b => truncate(b.label, 22));
  const margin = {
    l: Math.max(40, ...labels.map(l => textWidth(l))) + 12,
    r: 44,
    t: 4,
    b: 34
  };
  const band = 24;
  const w = Math.max(240, props.width);
  const h = margin.t + bins.length * band + margin.b;
  const xTicks = niceTicks(
    0,
    props.max || 0.01,
    Math.max(2, Math.floor((w - margin.l) / 80))
  );
  const xTop = xTicks[xTicks.length - 1];
  const x = linearScale([0, xTop], [margin.l, w - margin.r]);
  const bar = 8;
  return (
    <svg
      className="mlops-Svg mlops-Distribution mlops-mod-categories"
      width={w}
      height={h}
      role="img"
      aria-label={`Categories of ${props.column}: reference and current shares`}
    >
      <g className="mlops-Grid">
        {xTicks.map(t => (
          <line key={t} x1={x(t)} x2={x(t)} y1={margin.t} y2={h - margin.b} />
        ))}
      </g>
      {bins.map((b, i) => {
        const y0 = margin.t + i * band + (band - 2 * bar - 2) / 2;
        return (
          <g key={i} className="mlops-CategoryRow">
            <text
              className="mlops-CategoryLabel"
              x={margin.l - 8}
              y={y0 + bar + 1}
              dy="0.35em"
              textAnchor="end"
            >
              {labels[i]}
            </text>
            <rect
              className="mlops-Bar mlops-mod-reference"
              x={margin.l}
              y={y0}
              width={Math.max(0, x(b.reference) - margin.l)}
              height={bar}
              rx="1"
            />
            <rect
              className="mlops-Bar mlops-mod-current"
              x={margin.l}
              y={y0 + bar + 2}
              width={Math.max(0, x(b.current) - margin.l)}
              height={bar}
              rx="1"
            />
            <text
              className="mlops-BarValue"
              x={x(Math.max(b.reference, b.current)) + 4}
              y={y0 + bar + 1}
              dy="0.35em"
            >
              {formatShare(b.current)}
            </text>
            <rect
              className="mlops-HoverBand"
              x={0}
              y={margin.t + i * band}
              width={w}
              height={band}
            >
              <title>{`${props.column} = ${b.label}\nreference ${formatShare(b.reference)}\ncurrent ${formatShare(b.current)}`}</title>
            </rect>
          </g>
        );
      })}
      <g className="mlops-Axis">
        <line
          x1={margin.l}
          x2={w - margin.r}
          y1={h - margin.b}
          y2={h - margin.b}
        />
        {xTicks.map(t => (
          <text key={t} x={x(t)} y={h - margin.b + 14} textAnchor="middle">
            {formatShare(t)}
          </text>
        ))}
        <text
          className="mlops-AxisTitle"
          x={(margin.l + w - margin.r) / 2}
          y={h - 4}
          textAnchor="middle"
        >
          share of rows
        </text>
      </g>
    </svg>
  );
}

/** Horizontal grid lines with their labels on the left. */
function YGrid(props: {
  ticks: number[];
  labels: string[];
  y: (v: number) => number;
  x0: number;
  x1: number;
}): JSX.Element {
  return (
    <g className="mlops-Grid">
      {props.ticks.map((t, i) => (
        <g key={t}>
          <line x1={props.x0} x2={props.x1} y1={props.y(t)} y2={props.y(t)} />
          <text
            className="mlops-AxisLabel"
            x={props.x0 - 6}
            y={props.y(t)}
            dy="0.35em"
            textAnchor="end"
          >
            {props.labels[i]}
          </text>
        </g>
      ))}
    </g>
  );
}

const PERF_HEIGHT = 240;

/** The colour class of the n-th series. */
export function seriesClass(index: number): string {
  return `mlops-series-${index % 6}`;
}

/**
 * A metric per version over time: one line per version (shadow versions dashed),
 * a marker per bucket with its value and row count in the tooltip.
 */
export function PerformanceChart(props: {
  series: PerformanceSeries[];
  metric: string;
  metricLabel: string;
  /** The time axis: the window. */
  domain: [number, number];
  formatTime: (ms: number) => string;
}): JSX.Element {
  const [ref, width] = useWidth<HTMLDivElement>();
  const values = props.series.flatMap(s => s.points.map(p => p.y));
  const bounded = props.metric === 'accuracy' || props.metric === 'f1';
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (bounded) {
    lo = Math.max(0, Math.min(lo, hi - 0.1));
    hi = Math.min(1, Math.max(hi, lo + 0.1));
  } else {
    lo = 0;
  }
  const yTicks = niceTicks(lo, hi, 4).filter(
    t => !bounded || (t >= 0 && t <= 1)
  );
  const yStep = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
  const yLabels = yTicks.map(t => formatTick(t, yStep));
  const margin = {
    l: Math.max(...yLabels.map(l => textWidth(l))) + 34,
    r: 18,
    t: 10,
    b: 34
  };
  const w = Math.max(280, width);
  const h = PERF_HEIGHT;
  const times = props.series.flatMap(s => s.points.map(p => p.x));
  const t0 = Math.min(props.domain[0], ...times);
  const t1 = Math.max(props.domain[1], ...times);
  const x = linearScale([t0, t1], [margin.l, w - margin.r]);
  const y = linearScale(
    [yTicks[0], yTicks[yTicks.length - 1]],
    [h - margin.b, margin.t]
  );
  const ticks = timeTicks(t0, t1, Math.max(2, Math.floor((w - margin.l) / 90)));
  return (
    <div ref={ref} className="mlops-ChartBox mlops-PerformanceBox">
      <div className="mlops-ChartLegend">
        {props.series.map((s, i) => (
          <span
            key={s.key}
            className={`mlops-LegendItem ${seriesClass(i)}`}
            data-series={s.label}
          >
            <svg width="18" height="10" aria-hidden="true">
              <line
                className={`mlops-SeriesLine${s.shadow ? ' mlops-mod-shadow' : ''}`}
                x1="1"
                x2="17"
                y1="5"
                y2="5"
              />
            </svg>
            <span className="mlops-LegendLabel">{s.label}</span>
            <LatestValue
              series={s}
              metricLabel={props.metricLabel}
              formatTime={props.formatTime}
            />
          </span>
        ))}
      </div>
      <svg
        className="mlops-Svg mlops-Performance"
        width={w}
        height={h}
        role="img"
        aria-label={`${props.metricLabel} per version over time`}
      >
        <YGrid
          ticks={yTicks}
          labels={yLabels}
          y={y}
          x0={margin.l}
          x1={w - margin.r}
        />
        <text
          className="mlops-AxisTitle"
          transform={`translate(12, ${(margin.t + h - margin.b) / 2}) rotate(-90)`}
          textAnchor="middle"
        >
          {props.metricLabel}
        </text>
        <g className="mlops-Axis">
          <line
            x1={margin.l}
            x2={w - margin.r}
            y1={h - margin.b}
            y2={h - margin.b}
          />
          {ticks.map(t => (
            <g key={t.value}>
              <line
                x1={x(t.value)}
                x2={x(t.value)}
                y1={h - margin.b}
                y2={h - margin.b + 4}
              />
              <text x={x(t.value)} y={h - margin.b + 15} textAnchor="middle">
                {t.label}
              </text>
            </g>
          ))}
          <text
            className="mlops-AxisTitle"
            x={(margin.l + w - margin.r) / 2}
            y={h - 4}
            textAnchor="middle"
          >
            time (start of each bucket)
          </text>
        </g>
        {props.series.map((s, i) => (
          <g
            key={s.key}
            className={`mlops-Series ${seriesClass(i)}`}
            data-series={s.label}
          >
            <path
              className={`mlops-SeriesLine${s.shadow ? ' mlops-mod-shadow' : ''}`}
              d={s.points
                .map((p, j) => `${j ? 'L' : 'M'}${x(p.x)},${y(p.y)}`)
                .join('')}
            />
            {s.points.map(p => (
              <circle
                key={p.x}
                className="mlops-SeriesPoint"
                cx={x(p.x)}
                cy={y(p.y)}
                r={3.5}
              >
                <title>{`${s.label} · ${props.formatTime(p.x)}\n${props.metricLabel} ${formatMetric(p.y)} (${p.rows} labelled rows)`}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
    </div>
  );
}

/** The newest value of a series, shown in the legend. */
function LatestValue(props: {
  series: PerformanceSeries;
  metricLabel: string;
  formatTime: (ms: number) => string;
}): JSX.Element | null {
  const last = props.series.points[props.series.points.length - 1];
  if (!last) {
    return null;
  }
  return (
    <span
      className="mlops-LegendValue"
      title={`${props.metricLabel} of the newest bucket (${props.formatTime(last.x)}, ${last.rows} labelled rows)`}
    >
      {formatMetric(last.y)}
    </span>
  );
}
