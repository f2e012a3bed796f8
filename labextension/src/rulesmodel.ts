/**
 * The state of a deployment's alert rules: the saved rules, the JSON editor
 * (text, save, the server's refusal), and "Evaluate now". Views re-render on
 * `changed`.
 */

import { Alert, AlertRule, MlopsApiError, MlopsClient } from './client';
import {
  evaluationSummary,
  parseRulesText,
  rulesText,
  sortRules
} from './alerting';
import { loadFailure, messageOf } from './model';
import { sameData } from './query';
import { ObservableModel } from './observable';

/** Why the rules were not saved. */
export interface SaveError {
  message: string;
  /** The field the server named (`threshold`, `webhook`, …). */
  field?: string;
  /** The refusal came from the server (else from reading the JSON). */
  server: boolean;
}

export class RulesModel extends ObservableModel {
  constructor(options: RulesModel.IOptions) {
    super();
    this.deployment = options.deployment;
    this._client = options.client;
    this._onSaved = options.onSaved ?? (() => undefined);
    this._onEvaluated = options.onEvaluated ?? (() => undefined);
  }

  readonly deployment: string;

  /** Emitted whenever any part of the state changes. */
  /** The saved rules (by kind, see `sortRules`); null until loaded. */
  get rules(): AlertRule[] | null {
    return this._rules;
  }
  get error(): string | null {
    return this._error;
  }
  /** The JSON editor is open. */
  get editing(): boolean {
    return this._editing;
  }
  get text(): string {
    return this._text;
  }
  get saving(): boolean {
    return this._saving;
  }
  get saveError(): SaveError | null {
    return this._saveError;
  }
  get evaluating(): boolean {
    return this._evaluating;
  }
  /** The outcome of the last "Evaluate now". */
  get evaluation(): { ok: boolean; text: string } | null {
    return this._evaluation;
  }

  /** Reload the saved rules (the editor's text is left alone). */
  async refresh(): Promise<void> {
    const wanted = this._startLoad();
    try {
      const rules = sortRules(await this._client.alertRules(this.deployment));
      if (!wanted()) {
        return;
      }
      if (!sameData(rules, this._rules) || this._error !== null) {
        this._rules = rules;
        this._error = null;
        this._emit();
      }
    } catch (reason) {
      if (!wanted()) {
        return;
      }
      const message = loadFailure(reason, 'Alert rules are');
      if (message !== this._error) {
        this._error = message;
        this._emit();
      }
    }
  }

  /** Open the editor on the saved rules (or an example when there are none). */
  edit(): void {
    const rules = this._rules ?? [];
    this._text = rules.length
      ? rulesText(rules)
      : rulesText([{ kind: 'drift_share', threshold: 0.3, window: '1h' }]);
    this._editing = true;
    this._saveError = null;
    this._emit();
  }

  cancel(): void {
    this._editing = false;
    this._saveError = null;
    this._emit();
  }

  setText(text: string): void {
    this._text = text;
    this._emit();
  }

  /**
   * Save the editor's rules (`PUT`, replacing them all). A JSON mistake or the
   * server's refusal (400 naming the field) stays under the editor.
   */
  async save(): Promise<boolean> {
    const parsed = parseRulesText(this._text);
    if ('error' in parsed) {
      this._saveError = { message: parsed.error, server: false };
      this._emit();
      return false;
    }
    this._saving = true;
    this._saveError = null;
    this._emit();
    let ok = false;
    try {
      const rules = sortRules(
        await this._client.setAlertRules(this.deployment, parsed.rules)
      );
      this._invalidateLoads();
      this._rules = rules;
      this._error = null;
      this._editing = false;
      ok = true;
    } catch (reason) {
      this._saveError = {
        message: messageOf(reason),
        field: reason instanceof MlopsApiError ? reason.field : undefined,
        server: reason instanceof MlopsApiError && reason.status > 0
      };
    } finally {
      this._saving = false;
      this._emit();
    }
    if (ok) {
      this._onSaved(this._rules ?? []);
    }
    return ok;
  }

  /** Evaluate the deployment's rules now (`POST evaluate`). */
  async evaluate(): Promise<Alert[] | null> {
    this._evaluating = true;
    this._evaluation = null;
    this._emit();
    let changed: Alert[] | null = null;
    try {
      changed = await this._client.evaluateAlerts(this.deployment);
      this._evaluation = { ok: true, text: evaluationSummary(changed) };
    } catch (reason) {
      this._evaluation = {
        ok: false,
        text: `Not evaluated: ${messageOf(reason)}`
      };
    } finally {
      this._evaluating = false;
      this._emit();
    }
    if (changed) {
      this._onEvaluated(changed);
    }
    return changed;
  }

  private _client: MlopsClient;
  private _onSaved: (rules: AlertRule[]) => void;
  private _onEvaluated: (changed: Alert[]) => void;
  private _rules: AlertRule[] | null = null;
  private _error: string | null = null;
  private _editing = false;
  private _text = '';
  private _saving = false;
  private _saveError: SaveError | null = null;
  private _evaluating = false;
  private _evaluation: { ok: boolean; text: string } | null = null;
}

export namespace RulesModel {
  export interface IOptions {
    deployment: string;
    client: MlopsClient;
    /** Called after the rules were saved. */
    onSaved?: (rules: AlertRule[]) => void;
    /** Called after "Evaluate now" with the alerts that fired or resolved. */
    onEvaluated?: (changed: Alert[]) => void;
  }
}
