/**
 * Plotly charts of metric histories; plotly is loaded lazily (its own chunk).
 */
import * as React from 'react';

import { MetricHistory, MetricPoint } from './client';
import { formatMetric } from './format';

type PlotlyModule = typeof import('plotly.js-dist-min');

let plotlyPromise: Promise<PlotlyModule> | null = null;

function loadPlotly(): Promise<PlotlyModule> {
  if (!plotlyPromise) {
    plotlyPromise = import('plotly.js-dist-min').then(
      mod => ((mod as any).default ?? mod) as PlotlyModule
    );
  }
  return plotlyPromise;
}

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

/** The theme colors charts use, read from JupyterLab's CSS variables. */
function themeColors() {
  return {
    text: cssVar('--jp-ui-font-color1', '#333'),
    muted: cssVar('--jp-ui-font-color2', '#666'),
    grid: cssVar('--jp-border-color2', '#e0e0e0'),
    line: cssVar('--jp-brand-color1', '#1976d2'),
    font: cssVar('--jp-ui-font-family', 'sans-serif')
  };
}

export type Colors = ReturnType<typeof themeColors>;

/**
 * Axes of a metric over steps: `step` across (integer ticks, every step when the
 * steps span 12 or fewer), the metric's name up.
 */
export function stepAxes(
  layout: Record<string, any>,
  span: number,
  metric: string,
  colors: Colors
): void {
  layout.xaxis = {
    ...layout.xaxis,
    title: { text: 'step', font: { size: 11, color: colors.muted } },
    ...(span <= 12 ? { tickmode: 'linear', dtick: 1 } : { tickformat: 'd' })
  };
  layout.yaxis = {
    ...layout.yaxis,
    title: { text: metric, font: { size: 11, color: colors.muted } }
  };
}

export function baseLayout(title: string, colors: Colors): Record<string, any> {
  const axis = {
    gridcolor: colors.grid,
    zerolinecolor: colors.grid,
    linecolor: colors.grid,
    automargin: true
  };
  return {
    title: {
      text: title,
      font: { size: 13, color: colors.text, family: colors.font },
      x: 0.02,
      xanchor: 'left'
    },
    autosize: true,
    height: 240,
    margin: { l: 56, r: 16, t: 36, b: 40 },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    font: { color: colors.muted, family: colors.font, size: 11 },
    xaxis: { ...axis },
    yaxis: { ...axis },
    showlegend: false,
    hoverlabel: { font: { family: colors.font } }
  };
}

/**
 * A line chart of one metric over steps.
 */
export function lineFigure(
  key: string,
  history: MetricPoint[],
  colors: Colors
): { data: any[]; layout: Record<string, any> } {
  const sorted = [...history].sort((a, b) => a.step - b.step);
  const layout = baseLayout(key, colors);
  const steps = sorted.map(p => p.step);
  const span = steps.length ? steps[steps.length - 1] - steps[0] : 0;
  stepAxes(layout, span, key, colors);
  return {
    data: [
      {
        x: steps,
        y: sorted.map(p => p.value),
        customdata: sorted.map(p => new Date(p.timestamp).toLocaleString()),
        type: 'scatter',
        mode: sorted.length <= 50 ? 'lines+markers' : 'lines',
        name: key,
        line: { color: colors.line, width: 2 },
        marker: { color: colors.line, size: 5 },
        hovertemplate: `step %{x}<br>${key} = %{y:.6g}<br>%{customdata}<extra></extra>`
      }
    ],
    layout
  };
}

/**
 * A horizontal bar chart of the metrics that have a single value (e.g. evaluation
 * scores), one bar per metric.
 */
export function barFigure(
  histories: MetricHistory[],
  colors: Colors
): { data: any[]; layout: Record<string, any> } {
  const layout = baseLayout('Final values', colors);
  const sorted = [...histories].sort((a, b) => b.key.localeCompare(a.key));
  const values = sorted.map(h => h.history[h.history.length - 1].value);
  layout.height = Math.max(150, 26 * sorted.length + 80);
  layout.margin = { l: 16, r: 24, t: 36, b: 40 };
  layout.xaxis = {
    ...layout.xaxis,
    title: { text: 'value', font: { size: 11, color: colors.muted } }
  };
  layout.yaxis = {
    ...layout.yaxis,
    ticksuffix: ' ',
    gridcolor: 'rgba(0,0,0,0)'
  };
  layout.bargap = sorted.length < 3 ? 0.55 : 0.35;
  return {
    data: [
      {
        y: sorted.map(h => h.key),
        x: values,
        text: values.map(v => formatMetric(v)),
        textposition: 'auto',
        insidetextanchor: 'end',
        orientation: 'h',
        type: 'bar',
        marker: { color: colors.line },
        hovertemplate: '%{y} = %{x:.6g}<extra></extra>',
        cliponaxis: false
      }
    ],
    layout
  };
}

export interface PlotProps {
  /** Builds the figure; called again when `deps` or the theme change. */
  figure: (colors: Colors) => { data: any[]; layout: Record<string, any> };
  /** A stable key of the data drawn (redraw only when it changes). */
  dataKey: string;
  /** Changes when the JupyterLab theme changes, to redraw with the new colors. */
  themeVersion: number;
  label: string;
}

/**
 * A responsive plotly chart inside a themed card.
 */
export function Plot(props: PlotProps): JSX.Element {
  const ref = React.useRef<HTMLDivElement>(null);
  const [error, setError] = React.useState<string | null>(null);
  const figureRef = React.useRef(props.figure);
  figureRef.current = props.figure;

  React.useEffect(() => {
    let cancelled = false;
    const node = ref.current;
    if (!node) {
      return;
    }
    loadPlotly()
      .then(Plotly => {
        if (cancelled) {
          return;
        }
        const { data, layout } = figureRef.current(themeColors());
        return Plotly.react(node, data, layout as any, {
          responsive: true,
          displaylogo: false,
          displayModeBar: 'hover' as any,
          modeBarButtonsToRemove: ['select2d', 'lasso2d']
        });
      })
      .catch(reason => {
        if (!cancelled) {
          setError(String(reason));
        }
      });
    return () => {
      cancelled = true;
    };
  }, [props.dataKey, props.themeVersion]);

  // Plotly's `responsive` only follows window resizes: follow the tab's size too.
  React.useEffect(() => {
    const node = ref.current;
    if (!node || typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => {
      if (node.offsetWidth > 0 && (node as any)._fullLayout) {
        void loadPlotly().then(Plotly => Plotly.Plots.resize(node));
      }
    });
    observer.observe(node);
    return () => {
      observer.disconnect();
      void loadPlotly().then(Plotly => Plotly.purge(node));
    };
  }, []);

  return (
    <div className="mlops-Chart">
      {error && <div className="mlops-Banner mlops-Banner-error">{error}</div>}
      <div ref={ref} className="mlops-ChartPlot" data-metric={props.label} />
    </div>
  );
}

/** Metric histories with more than one point: one line chart each. */
export function SeriesCharts(props: {
  histories: MetricHistory[];
  themeVersion: number;
}): JSX.Element {
  return (
    <div className="mlops-Charts">
      {props.histories.map(h => (
        <Plot
          key={h.key}
          label={h.key}
          dataKey={JSON.stringify(h.history)}
          themeVersion={props.themeVersion}
          figure={colors => lineFigure(h.key, h.history, colors)}
        />
      ))}
    </div>
  );
}

/** Metrics with a single value: one bar chart. */
export function FinalValuesChart(props: {
  histories: MetricHistory[];
  themeVersion: number;
}): JSX.Element {
  return (
    <Plot
      label="final values"
      dataKey={JSON.stringify(props.histories)}
      themeVersion={props.themeVersion}
      figure={colors => barFigure(props.histories, colors)}
    />
  );
}
