/**
 * The model version view, shown in a main-area tab (one per version): header with
 * aliases and archive button, description, signature, metrics, files, validation
 * reports, explanations, the model card and the lineage graph.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import { ISignal } from '@lumino/signaling';
import * as React from 'react';

import {
  Lineage,
  LineageNode,
  MlopsClient,
  ModelCard,
  ModelVersion,
  ValidationReport
} from './client';
import {
  EmptyInline,
  ErrorBanner,
  Fact,
  KeyValueTable,
  loadErrorMessage,
  MetricsTable,
  NotLoaded,
  onEnterOrSpace,
  PollTimer,
  RuleResultCells,
  Section,
  sortedEntries
} from './common';
import { formatRelative, formatTime, shortId } from './format';
import {
  edgeLabel,
  kindLabel,
  layoutLineage,
  PositionedNode,
  truncateLabel
} from './lineage';
import {
  actionErrorMessage,
  allows,
  canRequestPromotion,
  pendingPromotionOf
} from './governance';
import { ExplanationsView } from './explanations';
import { ExplanationsModel } from './explanationsmodel';
import { GovernanceModel } from './governancemodel';
import { messageOf } from './model';
import { ModelCardView } from './modelcard';
import { VersionPromotion } from './promotions';
import { PlainAliasChips, ValidationBadgeView, VersionStatus } from './panel';
import { sameData } from './query';
import { aliasInputError, formatVersion } from './registry';

export class ModelVersionWidget extends ReactWidget {
  constructor(options: ModelVersionWidget.IOptions) {
    super();
    this.modelName = options.name;
    this.version = options.version;
    this._client = options.client;
    this._commands = options.commands;
    this._timer = new PollTimer(
      () => void this.refresh(),
      options.refreshInterval
    );
    this._onChanged = options.onChanged ?? (() => undefined);
    this._governance = options.governance ?? null;
    // Role, promotion requests and decisions show here too.
    this._governance?.changed.connect(() => this.update(), this);
    this._explanations = new ExplanationsModel({
      client: this._client,
      name: options.name,
      version: options.version
    });
    this._explanations.changed.connect(() => this.update(), this);
    // The model card's document and the explanation charts take the theme's colors.
    options.themeChanged?.connect(() => {
      this._themeVersion++;
      this.update();
    }, this);
    this.addClass('mlops-ModelVersion');
    this.title.label = `${this.modelName} ${formatVersion(this.version)}`;
    void this.refresh();
  }

  readonly modelName: string;
  readonly version: number;

  get detail(): ModelVersion | null {
    return this._detail;
  }

  /** Reload the version, its validation reports, explanations and lineage. */
  async refresh(): Promise<void> {
    const { modelName: name, version } = this;
    try {
      void this._governance?.refreshPromotions();
      void this._explanations.refresh();
      const [detail, validations, lineage, card] = await Promise.all([
        this._client.getVersion(name, version),
        this._client
          .listValidations(name, version)
          .catch((reason: unknown) => messageOf(reason)),
        this._client
          .getLineage(name, version)
          .catch((reason: unknown) => messageOf(reason)),
        this._client
          .modelCard(name, version, 'html')
          .catch((reason: unknown) => messageOf(reason))
      ]);
      if (this.isDisposed) {
        return;
      }
      const next = {
        detail,
        validations: typeof validations === 'string' ? [] : validations,
        validationsError: typeof validations === 'string' ? validations : null,
        lineage: typeof lineage === 'string' ? null : lineage,
        lineageError: typeof lineage === 'string' ? lineage : null
      };
      let changed =
        !sameData(next, {
          detail: this._detail,
          validations: this._validations,
          validationsError: this._validationsError,
          lineage: this._lineage,
          lineageError: this._lineageError
        }) || this._error !== null;
      this._detail = next.detail;
      this._validations = next.validations;
      this._validationsError = next.validationsError;
      this._lineage = next.lineage;
      this._lineageError = next.lineageError;
      if (this._applyCard(card)) {
        changed = true;
      }
      this._error = null;
      this.title.caption = `${detail.name} ${formatVersion(detail.version)} (${detail.status}${detail.archived ? ', archived' : ''})`;
      if (changed) {
        this.update();
      }
    } catch (reason) {
      if (this.isDisposed) {
        return;
      }
      this._error = loadErrorMessage(
        reason,
        `Model version ${name} ${formatVersion(version)}`
      );
      this.update();
    }
    this._schedule();
  }

  dispose(): void {
    this._timer.stop();
    this._explanations.dispose();
    super.dispose();
  }

  /** Keep a loaded model card (or why it failed); returns whether it changed. */
  private _applyCard(card: ModelCard | string): boolean {
    const html = typeof card === 'string' ? null : (card.html ?? '');
    const error = typeof card === 'string' ? `Model card: ${card}` : null;
    const intendedUse =
      typeof card === 'string'
        ? this._intendedUse
        : (card.intended_use ?? this._intendedUse);
    const changed =
      html !== this._cardHtml ||
      error !== this._cardError ||
      intendedUse !== this._intendedUse;
    // A card that could not be reloaded stays shown.
    if (html !== null || this._cardHtml === null) {
      this._cardHtml = html;
    }
    this._cardError = error;
    this._intendedUse = intendedUse;
    return changed;
  }

  /** Save the model card's intended use, then show the card again. */
  async saveIntendedUse(text: string): Promise<boolean> {
    this._cardBusy = true;
    this._cardSaveError = null;
    this.update();
    let ok = false;
    try {
      const saved = await this._client.setIntendedUse(
        this.modelName,
        this.version,
        text
      );
      this._intendedUse = saved?.intended_use ?? text;
      ok = true;
      const card = await this._client
        .modelCard(this.modelName, this.version, 'html')
        .catch((reason: unknown) => messageOf(reason));
      this._applyCard(card);
    } catch (reason) {
      this._cardSaveError = actionErrorMessage(reason, 'save the intended use');
    }
    this._cardBusy = false;
    this.update();
    return ok;
  }

  /** Archive or unarchive the version (`PATCH`). */
  async setArchived(archived: boolean): Promise<void> {
    await this._act(() =>
      this._client.patchVersion(this.modelName, this.version, { archived })
    );
  }

  /** Point an alias at this version; a refusal (422) is shown inline. */
  async setAlias(alias: string): Promise<boolean> {
    const problem = aliasInputError(alias);
    if (problem) {
      this._actionError = problem;
      this.update();
      return false;
    }
    return this._act(() =>
      this._client.setAlias(
        this.modelName,
        alias.trim().replace(/^@/, ''),
        this.version
      )
    );
  }

  async removeAlias(alias: string): Promise<boolean> {
    return this._act(() => this._client.deleteAlias(this.modelName, alias));
  }

  private async _act(action: () => Promise<unknown>): Promise<boolean> {
    this._busy = true;
    this._actionError = null;
    this.update();
    let ok = false;
    try {
      await action();
      ok = true;
    } catch (reason) {
      this._actionError = messageOf(reason);
    }
    this._busy = false;
    this.update();
    if (ok) {
      await this.refresh();
      this._onChanged(this);
    }
    return ok;
  }

  /** While the version is pending (files being verified), poll. */
  private _schedule(): void {
    this._timer.schedule(
      !this.isDisposed && this._detail?.status === 'pending'
    );
  }

  protected render(): JSX.Element {
    if (!this._detail) {
      return (
        <NotLoaded error={this._error}>
          Loading {this.modelName} {formatVersion(this.version)}…
        </NotLoaded>
      );
    }
    return (
      <ModelVersionView
        detail={this._detail}
        validations={this._validations}
        validationsError={this._validationsError}
        lineage={this._lineage}
        lineageError={this._lineageError}
        error={this._error}
        busy={this._busy}
        actionError={this._actionError}
        onArchive={archived => void this.setArchived(archived)}
        onSetAlias={alias => this.setAlias(alias)}
        onRemoveAlias={alias => void this.removeAlias(alias)}
        governance={this._governance}
        explanations={this._explanations}
        themeVersion={this._themeVersion}
        card={{
          html: this._cardHtml,
          error: this._cardError,
          intendedUse: this._intendedUse,
          busy: this._cardBusy,
          saveError: this._cardSaveError,
          onSave: text => this.saveIntendedUse(text)
        }}
        openRun={runId =>
          void this._commands.execute('mlops:open-run', { runId })
        }
        openNotebook={(path, runId) =>
          void (runId
            ? this._commands.execute('mlops:open-notebook-snapshot', {
                runId,
                path
              })
            : this._commands.execute('docmanager:open', { path }))
        }
      />
    );
  }

  private _client: MlopsClient;
  private _commands: CommandRegistry;
  private _onChanged: (widget: ModelVersionWidget) => void;
  private _detail: ModelVersion | null = null;
  private _validations: ValidationReport[] = [];
  private _validationsError: string | null = null;
  private _lineage: Lineage | null = null;
  private _lineageError: string | null = null;
  private _error: string | null = null;
  private _busy = false;
  private _actionError: string | null = null;
  private _timer: PollTimer;
  private _governance: GovernanceModel | null;
  private _explanations: ExplanationsModel;
  private _themeVersion = 0;
  private _cardHtml: string | null = null;
  private _cardError: string | null = null;
  private _intendedUse: string | null = null;
  private _cardBusy = false;
  private _cardSaveError: string | null = null;
}

export namespace ModelVersionWidget {
  export interface IOptions {
    name: string;
    version: number;
    client: MlopsClient;
    commands: CommandRegistry;
    /** The polling interval in seconds (0 = off), read at each poll. */
    refreshInterval: () => number;
    /** Called after an alias or the archived flag was changed here. */
    onChanged?: (widget: ModelVersionWidget) => void;
    /** The acting user's role and the promotion requests (shared with the panel). */
    governance?: GovernanceModel | null;
    /** The model card preview follows the theme. */
    themeChanged?: ISignal<any, any> | null;
  }
}

/** The model card of a version, as the tab holds it. */
interface CardState {
  html: string | null;
  error: string | null;
  intendedUse: string | null;
  busy: boolean;
  saveError: string | null;
  onSave: (text: string) => Promise<boolean>;
}

function ModelVersionView(props: {
  detail: ModelVersion;
  validations: ValidationReport[];
  validationsError: string | null;
  lineage: Lineage | null;
  lineageError: string | null;
  error: string | null;
  busy: boolean;
  actionError: string | null;
  onArchive: (archived: boolean) => void;
  onSetAlias: (alias: string) => Promise<boolean>;
  onRemoveAlias: (alias: string) => void;
  openRun: (runId: string) => void;
  /**
   * Open a run's notebook: the copy the run stored (`runId` set), else the file at
   * `path` in the Jupyter root.
   */
  openNotebook: (path: string | null, runId: string | null) => void;
  governance: GovernanceModel | null;
  explanations: ExplanationsModel;
  themeVersion: number;
  card: CardState;
}): JSX.Element {
  const d = props.detail;
  const gov = props.governance;
  const me = gov?.me ?? null;
  // Without governance on the page, everything shows (the server decides).
  const can = (capability: 'register' | 'request_promotion') =>
    gov ? allows(me, gov.meError, capability) : true;
  const pending = gov
    ? pendingPromotionOf(gov.promotions, d.name, d.version)
    : null;
  const inputs = d.signature?.inputs ?? [];
  const outputs = Array.isArray(d.signature?.outputs)
    ? d.signature!.outputs
    : [];
  const metrics = sortedEntries(d.metrics);
  const files = sortedEntries(d.files);
  const [latest, ...earlier] = props.validations;
  return (
    <div className="mlops-RunDetailBody mlops-ModelVersionBody">
      {props.error && <ErrorBanner>{props.error}</ErrorBanner>}
      <header className="mlops-RunHeader">
        <div className="mlops-RunTitleRow">
          <h1 className="mlops-RunTitle mlops-VersionTitle">
            {d.name}{' '}
            <span className="mlops-Muted">{formatVersion(d.version)}</span>
          </h1>
          <VersionStatus status={d.status} />
          {d.archived && (
            <span
              className="mlops-ArchivedFlag"
              title="Archived versions are hidden from lists"
            >
              archived
            </span>
          )}
          <ValidationBadgeView validation={d.validation} />
          <span className="mlops-Spacer" />
          {can('register') && (
            <button
              className={`jp-Button jp-mod-styled ${d.archived ? 'jp-mod-accept' : 'jp-mod-reject'} mlops-ArchiveButton`}
              disabled={props.busy}
              title={
                d.archived
                  ? 'Show this version in lists again'
                  : 'Hide this version from lists (aliases keep working)'
              }
              onClick={() => props.onArchive(!d.archived)}
            >
              {d.archived ? 'Unarchive' : 'Archive'}
            </button>
          )}
        </div>
        <AliasEditor
          aliases={d.aliases ?? []}
          busy={props.busy}
          error={props.actionError}
          editable={can('register')}
          onSet={props.onSetAlias}
          onRemove={props.onRemoveAlias}
        />
        {gov && (
          <VersionPromotion
            model={gov}
            name={d.name}
            version={d.version}
            pending={pending}
            canRequest={canRequestPromotion(me, d, pending)}
          />
        )}
        <dl className="mlops-RunFacts">
          <Fact label="Created" title={formatTime(d.created_at)}>
            {formatRelative(d.created_at)} by {d.created_by || '—'}
          </Fact>
          <Fact label="Run">
            {d.run_id ? (
              <a
                className="mlops-Link mlops-VersionRunLink"
                href="#"
                title={`Open run ${d.run_id}`}
                onClick={ev => {
                  ev.preventDefault();
                  props.openRun(d.run_id!);
                }}
              >
                <code>{shortId(d.run_id, 12)}</code>
              </a>
            ) : (
              '—'
            )}
          </Fact>
          {d.flavor && (
            <Fact label="Flavor">
              {d.flavor}
              {d.serializer ? ` / ${d.serializer}` : ''}
              {d.unsafe_serializer && (
                <span
                  className="mlops-UnsafeFlag"
                  title="Loading this model runs arbitrary code (pickle-like serializer)"
                >
                  {' '}
                  unsafe
                </span>
              )}
            </Fact>
          )}
          {d.model_class && (
            <Fact label="Class">
              <code title={d.model_class}>
                {d.model_class.split('.').pop()}
              </code>
            </Fact>
          )}
          <Fact label="Path in run">
            <code>{d.model_path}</code>
          </Fact>
        </dl>
      </header>

      <Section title="Description">
        {d.description ? (
          <p className="mlops-Description">{d.description}</p>
        ) : (
          <EmptyInline>No description.</EmptyInline>
        )}
      </Section>

      <div className="mlops-Columns">
        <Section title="Signature" count={inputs.length}>
          {inputs.length ? (
            <div className="mlops-SignatureScroll">
              <table className="mlops-Table mlops-SignatureTable">
                <thead>
                  <tr>
                    <th>Input column</th>
                    <th>dtype</th>
                  </tr>
                </thead>
                <tbody>
                  {inputs.map((c, i) => (
                    <tr key={`${c.name}-${i}`}>
                      <td>{c.name}</td>
                      <td>
                        <code>{c.dtype}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <EmptyInline>No signature recorded.</EmptyInline>
          )}
          {d.signature?.input_kind && (
            <div className="mlops-Muted mlops-Note">
              input: {d.signature.input_kind}
              {outputs.length
                ? `; outputs: ${outputs.map(o => `${o.name} (${o.dtype})`).join(', ')}`
                : ''}
            </div>
          )}
        </Section>
        <Section title="Metrics" count={metrics.length}>
          <MetricsTable metrics={metrics} empty="No metrics snapshot." />
        </Section>
      </div>

      <Section title="Files" count={files.length}>
        {files.length ? (
          <table className="mlops-Table mlops-FilesTable">
            <thead>
              <tr>
                <th>File</th>
                <th>sha256</th>
              </tr>
            </thead>
            <tbody>
              {files.map(([file, sha]) => (
                <tr key={file}>
                  <td>
                    <code>{file}</code>
                  </td>
                  <td>
                    <code title={sha}>{shortId(sha, 12)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <EmptyInline>No files.</EmptyInline>
        )}
      </Section>

      <Section
        title="Validation"
        count={props.validations.length}
        className="mlops-ValidationSection"
      >
        {props.validationsError && (
          <div className="mlops-FilterError">{props.validationsError}</div>
        )}
        {latest ? (
          <>
            <ReportSummary report={latest} latest />
            <ReportTable report={latest} />
            {earlier.length > 0 && (
              <div className="mlops-EarlierReports">
                <h4 className="mlops-SubTitle">Earlier reports</h4>
                {earlier.map(r => (
                  <details key={r.id} className="mlops-EarlierReport">
                    <summary>
                      <ReportSummary report={r} />
                    </summary>
                    <ReportTable report={r} />
                  </details>
                ))}
              </div>
            )}
          </>
        ) : (
          !props.validationsError && (
            <EmptyInline>
              Not validated yet: run{' '}
              <code>
                mlops.validate(&quot;{d.name}&quot;, {d.version}, data=(X, y))
              </code>
              . The <code>production</code> alias needs a passing report.
            </EmptyInline>
          )
        )}
      </Section>

      <Section
        title="Explanations"
        count={props.explanations.summaries?.length || undefined}
        className="mlops-ExplanationsSection"
      >
        <ExplanationsView
          model={props.explanations}
          themeVersion={props.themeVersion}
        />
      </Section>

      <Section title="Model card" className="mlops-ModelCardSection">
        <ModelCardView
          {...props.card}
          canEdit={can('register')}
          title={`Model card of ${d.name} ${formatVersion(d.version)}`}
        />
      </Section>

      <Section title="Lineage" className="mlops-LineageSection">
        {props.lineageError && (
          <div className="mlops-FilterError">{props.lineageError}</div>
        )}
        {props.lineage && (
          <LineageView
            lineage={props.lineage}
            openRun={props.openRun}
            openNotebook={props.openNotebook}
          />
        )}
      </Section>
    </div>
  );
}

function AliasEditor(props: {
  aliases: string[];
  busy: boolean;
  error: string | null;
  /** False: the aliases are shown without the remove buttons and the input. */
  editable: boolean;
  onSet: (alias: string) => Promise<boolean>;
  onRemove: (alias: string) => void;
}): JSX.Element {
  const [text, setText] = React.useState('');
  const submit = async () => {
    if (await props.onSet(text)) {
      setText('');
    }
  };
  return (
    <div className="mlops-AliasEditor">
      <span className="mlops-AliasLabel">Aliases</span>
      {props.aliases.length ? (
        <PlainAliasChips
          aliases={props.aliases}
          onRemove={props.editable ? props.onRemove : undefined}
          busy={props.busy}
        />
      ) : (
        <span className="mlops-Muted">none</span>
      )}
      {props.editable && (
        <>
          <input
            className="mlops-AliasInput jp-mod-styled"
            type="text"
            spellCheck={false}
            placeholder="alias, e.g. staging"
            aria-label="Alias to set on this version"
            value={text}
            disabled={props.busy}
            onChange={ev => setText(ev.target.value)}
            onKeyDown={ev => {
              if (ev.key === 'Enter') {
                void submit();
              }
            }}
          />
          <button
            className="jp-Button jp-mod-styled jp-mod-accept mlops-AliasSet"
            disabled={props.busy || !text.trim()}
            title="Point this alias at this version (moves it from another version)"
            onClick={() => void submit()}
          >
            Set
          </button>
        </>
      )}
      {props.error && (
        <div className="mlops-ActionError mlops-AliasError" role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}

function ReportSummary(props: {
  report: ValidationReport;
  latest?: boolean;
}): JSX.Element {
  const r = props.report;
  const failed = r.results.filter(x => !x.passed).length;
  return (
    <span className="mlops-ReportSummary">
      <ValidationBadgeView validation={r} />
      <span title={formatTime(r.created_at)}>
        {props.latest ? 'Latest report, ' : ''}
        {formatTime(r.created_at)}
      </span>
      <span className="mlops-Muted">
        {r.created_by ? `by ${r.created_by} · ` : ''}
        {r.results.length} rule{r.results.length === 1 ? '' : 's'}
        {failed ? `, ${failed} failed` : ''}
        {r.data?.rows !== undefined && r.data?.rows !== null
          ? ` · ${r.data.rows} rows`
          : ''}
      </span>
      {r.data?.fingerprint && (
        <code className="mlops-Muted" title={r.data.fingerprint}>
          {shortId(r.data.fingerprint, 10)}
        </code>
      )}
    </span>
  );
}

function ReportTable({ report }: { report: ValidationReport }): JSX.Element {
  if (!report.results.length) {
    return <EmptyInline>No rules were checked.</EmptyInline>;
  }
  return (
    <table className="mlops-Table mlops-ReportTable">
      <thead>
        <tr>
          <th>Rule</th>
          <th className="mlops-col-num">Value</th>
          <th className="mlops-col-num">Threshold</th>
          <th>Result</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        {report.results.map((x, i) => (
          <tr
            key={`${x.rule}-${i}`}
            className={x.passed ? 'mlops-mod-passed' : 'mlops-mod-failed'}
          >
            <RuleResultCells
              rule={x.rule}
              value={x.value}
              threshold={x.threshold}
              passed={x.passed}
            />
            <td
              className="mlops-Muted mlops-RuleMessage"
              title={x.message ?? ''}
            >
              {x.message ?? ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Whether clicking a node does something (open a tab) rather than just select it. */
function nodeAction(node: LineageNode): 'run' | 'notebook' | 'disabled' | null {
  if (node.kind === 'run') {
    return node.data?.run_id ? 'run' : null;
  }
  if (node.kind === 'notebook') {
    return (node.data?.artifact && node.data?.run_id) ||
      node.data?.notebook_path
      ? 'notebook'
      : 'disabled';
  }
  return null;
}

/** The stored copy of a notebook node when the run kept one, else the current file. */
function openStoredOrCurrent(
  node: LineageNode,
  open: (path: string | null, runId: string | null) => void
): void {
  const path = node.data?.notebook_path
    ? String(node.data.notebook_path)
    : null;
  if (node.data?.artifact && node.data?.run_id) {
    open(path, String(node.data.run_id));
  } else if (path) {
    open(path, null);
  }
}

function nodeTooltip(node: LineageNode): string {
  switch (nodeAction(node)) {
    case 'run':
      return `${node.label}: open the run`;
    case 'notebook':
      return node.data?.artifact
        ? `Open ${node.label} as run ${String(node.data.run_id).slice(0, 8)} saw it`
        : `Open ${node.data.notebook_path}`;
    case 'disabled':
      return `${node.label}: the notebook lies outside the Jupyter root and no copy was stored`;
    default:
      return `${node.label} (${kindLabel(node)}): show details`;
  }
}

export function LineageView(props: {
  lineage: Lineage;
  openRun: (runId: string) => void;
  /**
   * Open a run's notebook: the copy the run stored (`runId` set), else the file at
   * `path` in the Jupyter root.
   */
  openNotebook: (path: string | null, runId: string | null) => void;
}): JSX.Element {
  const layout = React.useMemo(
    () => layoutLineage(props.lineage),
    [JSON.stringify(props.lineage)]
  );
  const [selectedId, setSelectedId] = React.useState<string | null>(() => {
    const dataset = props.lineage.nodes.find(n => n.kind === 'dataset');
    return dataset?.id ?? null;
  });
  const selected =
    layout.nodes.find(p => p.node.id === selectedId)?.node ?? null;
  if (!layout.nodes.length) {
    return <EmptyInline>No lineage recorded.</EmptyInline>;
  }
  const activate = (p: PositionedNode) => {
    const node = p.node;
    const action = nodeAction(node);
    setSelectedId(node.id);
    if (action === 'run') {
      props.openRun(String(node.data.run_id));
    } else if (action === 'notebook') {
      openStoredOrCurrent(node, props.openNotebook);
    }
  };
  return (
    <div className="mlops-Lineage">
      <div className="mlops-LineageScroll">
        <svg
          className="mlops-LineageGraph"
          width={layout.width}
          height={layout.height}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          role="img"
          aria-label="Lineage graph"
        >
          <defs>
            <marker
              id="mlops-lineage-arrow"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M 0 0 L 10 5 L 0 10 z" className="mlops-LineageArrow" />
            </marker>
          </defs>
          {layout.edges.map((e, i) => (
            <g
              key={`${e.edge.source}->${e.edge.target}-${i}`}
              className={`mlops-LineageEdge mlops-edge-${e.edge.kind}`}
            >
              <title>{edgeLabel(e.edge.kind)}</title>
              <path d={e.path} markerEnd="url(#mlops-lineage-arrow)" />
            </g>
          ))}
          {layout.edges.map((e, i) => (
            <text
              key={`label-${i}`}
              className="mlops-LineageEdgeLabel"
              x={e.x2 - 8}
              y={e.y2 - 5}
              textAnchor="end"
            >
              {edgeLabel(e.edge.kind)}
            </text>
          ))}
          {layout.nodes.map(p => {
            const action = nodeAction(p.node);
            const isSelected = p.node.id === selectedId;
            return (
              <g
                key={p.node.id}
                className={`mlops-LineageNode mlops-kind-${p.node.kind}${isSelected ? ' mlops-mod-selected' : ''}${action === 'disabled' ? ' mlops-mod-disabled' : ''}${action && action !== 'disabled' ? ' mlops-mod-action' : ''}`}
                data-node-id={p.node.id}
                data-kind={p.node.kind}
                transform={`translate(${p.x}, ${p.y})`}
                role="button"
                tabIndex={0}
                aria-label={nodeTooltip(p.node)}
                aria-disabled={action === 'disabled'}
                onClick={() => activate(p)}
                onKeyDown={onEnterOrSpace(() => activate(p))}
              >
                <title>{nodeTooltip(p.node)}</title>
                <rect
                  className="mlops-LineageBox"
                  width={p.width}
                  height={p.height}
                  rx={5}
                  ry={5}
                />
                <rect
                  className="mlops-LineageStripe"
                  width={4}
                  height={p.height - 2}
                  x={1}
                  y={1}
                  rx={2}
                />
                <text className="mlops-LineageLabel" x={12} y={18}>
                  {truncateLabel(p.node.label, 24)}
                </text>
                <text className="mlops-LineageKind" x={12} y={34}>
                  {truncateLabel(kindLabel(p.node), 28)}
                  {action === 'run' || action === 'notebook' ? ' ↗' : ''}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
      <LineageDetails
        node={selected}
        openRun={props.openRun}
        openNotebook={props.openNotebook}
      />
    </div>
  );
}

function LineageDetails(props: {
  node: LineageNode | null;
  openRun: (runId: string) => void;
  /**
   * Open a run's notebook: the copy the run stored (`runId` set), else the file at
   * `path` in the Jupyter root.
   */
  openNotebook: (path: string | null, runId: string | null) => void;
}): JSX.Element {
  const node = props.node;
  if (!node) {
    return (
      <aside className="mlops-LineageDetails mlops-Muted">
        Click a dataset or commit to see its details; a run or notebook opens
        it.
      </aside>
    );
  }
  const data = node.data ?? {};
  let rows: [string, React.ReactNode][];
  switch (node.kind) {
    case 'dataset':
      rows = [
        ['name', data.name ?? '—'],
        ['version', data.version ?? '—'],
        ['role', data.role ?? '—'],
        ['rows', data.rows ?? '—'],
        [
          'fingerprint',
          data.fingerprint ? (
            <code title={data.fingerprint}>
              {shortId(data.fingerprint, 16)}
            </code>
          ) : (
            '—'
          )
        ]
      ];
      break;
    case 'commit':
      rows = [
        ['commit', <code key="c">{shortId(data.commit, 12) || '—'}</code>],
        ['branch', data.branch ?? '—']
      ];
      break;
    case 'notebook':
      rows = [
        ['path', data.notebook_path ?? 'outside the Jupyter root'],
        ['stored copy', data.artifact ?? '—'],
        [
          'hash',
          data.notebook_hash ? (
            <code title={data.notebook_hash}>
              {shortId(data.notebook_hash, 16)}
            </code>
          ) : (
            '—'
          )
        ]
      ];
      break;
    case 'run':
      rows = [
        ['run id', <code key="r">{shortId(data.run_id, 12)}</code>],
        ...(['experiment', 'status', 'user'] as const)
          .filter(k => data[k])
          .map((k): [string, React.ReactNode] => [k, String(data[k])])
      ];
      break;
    case 'model_version':
      rows = [
        ['status', data.status ?? '—'],
        [
          'aliases',
          Array.isArray(data.aliases) && data.aliases.length
            ? data.aliases.join(', ')
            : '—'
        ],
        ['files', Object.keys(data.files ?? {}).length]
      ];
      break;
    default:
      rows = Object.entries(data).map(([k, v]) => [
        k,
        typeof v === 'object' ? JSON.stringify(v) : String(v)
      ]);
  }
  return (
    <aside
      className={`mlops-LineageDetails mlops-kind-${node.kind}`}
      aria-label="Lineage node details"
    >
      <div className="mlops-LineageDetailsTitle">
        <span className="mlops-LineageDetailsKind">{kindLabel(node)}</span>
        <strong title={node.label}>{node.label}</strong>
      </div>
      <KeyValueTable rows={rows} empty="No details." />
      {node.kind === 'run' && data.run_id && (
        <button
          className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton"
          onClick={() => props.openRun(String(data.run_id))}
        >
          Open run
        </button>
      )}
      {node.kind === 'notebook' && (
        <button
          className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton mlops-OpenStoredNotebook"
          disabled={nodeAction(node) !== 'notebook'}
          title={nodeTooltip(node)}
          onClick={() => openStoredOrCurrent(node, props.openNotebook)}
        >
          Open notebook
        </button>
      )}
    </aside>
  );
}
