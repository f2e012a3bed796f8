/**
 * Plotly figures stored as JSON (a sweep's chart, an AutoML or federated run's
 * `charts/*.json`, an explanation's figures), redrawn in the JupyterLab theme: the
 * recolouring, and the heading a figure's card shows instead of plotly's title.
 * No DOM, no JupyterLab: unit-tested in Node.
 */

/** The theme colours a stored figure is redrawn with (see chart.tsx `Colors`). */
export interface FigureColors {
  text: string;
  muted: string;
  grid: string;
  font: string;
}

/** A plotly figure as stored (`fig.to_json()`). */
export interface StoredFigure {
  data?: unknown[];
  layout?: Record<string, any>;
}

/**
 * A stored plotly figure redrawn in the theme: its own template dropped (plotly's
 * white one reads badly on the dark theme), transparent backgrounds, the theme's
 * font and grid colours on every axis (and room for its tick labels unless the
 * figure says otherwise); traces unchanged. A copy: the stored figure
 * is not touched.
 */
export function themedFigure(
  figure: StoredFigure,
  colors: FigureColors
): { data: any[]; layout: Record<string, any> } {
  const copy = JSON.parse(JSON.stringify(figure ?? {})) as StoredFigure;
  const data = Array.isArray(copy.data) ? (copy.data as any[]) : [];
  const layout: Record<string, any> = { ...(copy.layout ?? {}) };
  delete layout.template;
  delete layout.width;
  layout.autosize = true;
  layout.paper_bgcolor = 'rgba(0,0,0,0)';
  layout.plot_bgcolor = 'rgba(0,0,0,0)';
  layout.font = {
    ...(layout.font ?? {}),
    color: colors.muted,
    family: colors.font
  };
  if (layout.title && typeof layout.title === 'object') {
    layout.title = {
      ...layout.title,
      font: { ...(layout.title.font ?? {}), color: colors.text }
    };
  }
  if (typeof layout.height !== 'number') {
    layout.height = 360;
  }
  for (const key of Object.keys(layout)) {
    if (
      /^[xy]axis\d*$/.test(key) &&
      layout[key] &&
      typeof layout[key] === 'object'
    ) {
      layout[key] = {
        // Room for long tick labels when the card is narrower than the notebook.
        automargin: true,
        ...layout[key],
        gridcolor: colors.grid,
        zerolinecolor: colors.grid,
        linecolor: colors.grid
      };
    }
  }
  if (Array.isArray(layout.annotations)) {
    layout.annotations = layout.annotations.map((a: any) => ({
      ...a,
      font: { ...(a?.font ?? {}), color: colors.muted }
    }));
  }
  for (const trace of data) {
    if (trace && typeof trace === 'object' && trace.type === 'parcoords') {
      trace.labelfont = { ...(trace.labelfont ?? {}), color: colors.text };
      trace.tickfont = { ...(trace.tickfont ?? {}), color: colors.muted };
      trace.rangefont = { ...(trace.rangefont ?? {}), color: colors.muted };
    }
  }
  return { data, layout };
}

/** Whether a stored figure has something to draw. */
export function isFigure(value: unknown): value is StoredFigure {
  return (
    !!value &&
    typeof value === 'object' &&
    Array.isArray((value as StoredFigure).data)
  );
}

/** What a figure's card shows above it: a headline and an optional second line. */
export interface FigureHeading {
  title: string;
  subtitle: string;
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' '
};

/** Plotly's title markup as plain text: tags removed, entities decoded, spaces folded. */
export function plainText(markup: string): string {
  return markup
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, code: string) => {
      if (code[0] === '#') {
        const n =
          code[1].toLowerCase() === 'x'
            ? parseInt(code.slice(2), 16)
            : parseInt(code.slice(1), 10);
        return Number.isFinite(n) ? String.fromCodePoint(n) : whole;
      }
      return ENTITIES[code.toLowerCase()] ?? whole;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

/** The text of a layout's title (a string or `{text}`), or ''. */
function titleText(figure: StoredFigure | null | undefined): string {
  const title = figure?.layout?.title;
  if (typeof title === 'string') {
    return title;
  }
  return title && typeof title === 'object' && typeof title.text === 'string'
    ? title.text
    : '';
}

/**
 * A readable name for a stored file: `charts/param_importance.json` →
 * `Param importance`.
 */
export function titleFromPath(path: string): string {
  const base = (path.split('/').pop() ?? path).replace(/\.json$/i, '');
  const words = base.replace(/[_-]+/g, ' ').trim();
  return words ? words[0].toUpperCase() + words.slice(1) : path;
}

/**
 * The heading of a stored figure: its title's first line, the next lines (plotly's
 * `<br><sup>…</sup>` subtitle) as the second line; `fallback` when it has no title.
 */
export function figureHeading(
  figure: StoredFigure | null | undefined,
  fallback: string
): FigureHeading {
  const [first, ...rest] = titleText(figure).split(/<br\s*\/?>/i);
  const title = plainText(first ?? '');
  return {
    title: title || fallback,
    subtitle: rest.map(plainText).filter(Boolean).join(' · ')
  };
}

/**
 * A themed figure without its title (its card shows the heading as text): less room
 * above the plot, the rest unchanged.
 */
export function untitledFigure(themed: {
  data: any[];
  layout: Record<string, any>;
}): { data: any[]; layout: Record<string, any> } {
  const layout = { ...themed.layout };
  delete layout.title;
  const margin = { ...(layout.margin ?? {}) };
  margin.t = Math.min(typeof margin.t === 'number' ? margin.t : 32, 32);
  layout.margin = margin;
  return { data: themed.data, layout };
}
