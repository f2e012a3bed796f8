/**
 * Pure helpers for the model registry views: alias chips, validation badges, versions.
 * No DOM, no JupyterLab: unit-tested in Node.
 */

/** An alias chip: `production → v2`. */
export interface AliasChip {
  alias: string;
  version: number;
  label: string;
}

/** Aliases shown first, in this order; the others follow alphabetically. */
const ALIAS_ORDER = ['production', 'staging', 'champion', 'challenger'];

function aliasRank(alias: string): number {
  const i = ALIAS_ORDER.indexOf(alias);
  return i === -1 ? ALIAS_ORDER.length : i;
}

/** Sort alias names: well-known ones first (production, staging, …), then A→Z. */
export function sortAliases(aliases: ReadonlyArray<string>): string[] {
  return [...aliases].sort(
    (a, b) => aliasRank(a) - aliasRank(b) || a.localeCompare(b)
  );
}

/** `v3` */
export function formatVersion(version: number | null | undefined): string {
  return version === null || version === undefined ? '—' : `v${version}`;
}

/**
 * The alias chips of a registered model (`{"production": 2, "staging": 3}`):
 * `production → v2`, `staging → v3`.
 */
export function aliasChips(
  aliases: Record<string, number> | null | undefined
): AliasChip[] {
  const map = aliases ?? {};
  return sortAliases(Object.keys(map)).map(alias => ({
    alias,
    version: map[alias],
    label: `${alias} → ${formatVersion(map[alias])}`
  }));
}

/** The CSS modifier of an alias chip: production and staging get their own colors. */
export function aliasClass(alias: string): string {
  if (alias === 'production' || alias === 'staging') {
    return `mlops-alias-${alias}`;
  }
  return 'mlops-alias-other';
}

export type BadgeState = 'passed' | 'failed' | 'none';

export interface ValidationBadge {
  state: BadgeState;
  /** `✓ passed`, `✗ failed`, `not validated`. */
  label: string;
  icon: string;
  title: string;
}

/**
 * The validation badge of a version, from its `validation` summary (or a report).
 * `formatTime` formats the report time for the tooltip.
 */
export function validationBadge(
  validation:
    { passed: boolean; created_at?: number | null } | null | undefined,
  formatTime: (ms: number | null | undefined) => string = ms => String(ms)
): ValidationBadge {
  if (!validation) {
    return {
      state: 'none',
      label: 'not validated',
      icon: '',
      title: 'No validation report yet'
    };
  }
  const when = validation.created_at
    ? ` (${formatTime(validation.created_at)})`
    : '';
  return validation.passed
    ? {
        state: 'passed',
        label: 'passed',
        icon: '✓',
        title: `Latest validation passed${when}`
      }
    : {
        state: 'failed',
        label: 'failed',
        icon: '✗',
        title: `Latest validation failed${when}`
      };
}

/** Newest first (highest version number first). */
export function sortVersions<T extends { version: number }>(
  versions: ReadonlyArray<T>
): T[] {
  return [...versions].sort((a, b) => b.version - a.version);
}

/** The text of a validation value or threshold: numbers compact, the rest as text. */
export function formatRuleValue(
  value: unknown,
  formatNumber: (n: number) => string
): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'number') {
    return formatNumber(value);
  }
  if (typeof value === 'boolean') {
    return value ? 'true' : 'false';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Check an alias name typed by the user before sending it (the server's rule: a letter,
 * then letters, digits, `_` or `-`; `latest` is reserved). Returns an error message, or
 * null when it looks fine (the server has the last word). A leading `@` is allowed.
 */
export function aliasInputError(alias: string): string | null {
  const a = alias.trim().replace(/^@/, '');
  if (!a) {
    return 'Type an alias name, e.g. staging';
  }
  if (a.toLowerCase() === 'latest') {
    return "'latest' is reserved: it always means the newest version";
  }
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(a)) {
    return `Alias '${a}' is not allowed: use a letter, then letters, digits, _ or -`;
  }
  return null;
}
