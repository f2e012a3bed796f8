/**
 * The document of the model card preview: the server's sanitized HTML fragment
 * under a stylesheet made of the current theme's colors (a sandboxed iframe
 * cannot read the page's CSS variables). No DOM needed: unit-tested in Node.
 */

/** The theme variables the card's document is styled with. */
const THEME_VARIABLES: Record<string, string> = {
  fg: '--jp-content-font-color1',
  muted: '--jp-content-font-color2',
  bg: '--jp-layout-color0',
  border: '--jp-border-color2',
  link: '--jp-content-link-color',
  code: '--jp-layout-color2',
  font: '--jp-content-font-family',
  mono: '--jp-code-font-family',
  size: '--jp-content-font-size1'
};

const FALLBACK: Record<string, string> = {
  fg: '#212121',
  muted: '#616161',
  bg: '#ffffff',
  border: '#e0e0e0',
  link: '#1976d2',
  code: '#eeeeee',
  font: 'sans-serif',
  mono: 'monospace',
  size: '14px'
};

/** The current values of the theme variables (read from the document body). */
export function themeColors(
  read: (name: string) => string = name =>
    getComputedStyle(document.body).getPropertyValue(name)
): Record<string, string> {
  const colors: Record<string, string> = {};
  for (const [key, variable] of Object.entries(THEME_VARIABLES)) {
    // Nothing that could close the style element or open a tag.
    const value = read(variable)
      .trim()
      .replace(/[<>{}]/g, '');
    colors[key] = value || FALLBACK[key];
  }
  return colors;
}

/** The whole document of the iframe: the card fragment under a theme stylesheet. */
export function cardDocument(
  html: string,
  colors: Record<string, string>
): string {
  const c = { ...FALLBACK, ...colors };
  const css = `
html { color-scheme: light dark; }
body { margin: 12px 16px; color: ${c.fg}; background: ${c.bg};
  font-family: ${c.font}; font-size: ${c.size}; line-height: 1.5; }
a { color: ${c.link}; }
h1, h2, h3 { margin: 0.8em 0 0.4em; line-height: 1.25; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; } h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid ${c.border}; padding: 3px 8px; text-align: left; }
code, pre { font-family: ${c.mono}; background: ${c.code}; border-radius: 3px; }
code { padding: 0 3px; } pre { padding: 6px 8px; overflow: auto; }
.muted, small { color: ${c.muted}; }`;
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><style>${css}</style></head><body>${html}</body></html>`;
}
