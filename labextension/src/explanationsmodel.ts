/**
 * The explanations of one model version (its tab's Explanations section): the list,
 * newest first, and the one shown in full (the newest unless another was chosen).
 * A stored explanation never changes: each is fetched in full once.
 */
import { Explanation, ExplanationSummary, MlopsClient } from './client';
import { loadFailure, messageOf } from './model';
import { ObservableModel } from './observable';
import { sameData } from './query';

export class ExplanationsModel extends ObservableModel {
  constructor(options: ExplanationsModel.IOptions) {
    super();
    this._client = options.client;
    this.name = options.name;
    this.version = options.version;
  }

  readonly name: string;
  readonly version: number;

  /** The explanations, newest first; `null` until first loaded. */
  get summaries(): ExplanationSummary[] | null {
    return this._summaries;
  }

  /** Why the list could not be loaded (e.g. a server without the route). */
  get error(): string | null {
    return this._error;
  }

  /** The id of the explanation shown. */
  get selectedId(): string | null {
    return this._selectedId;
  }

  /** The explanation shown, in full; `null` while loading or when there is none. */
  get current(): Explanation | null {
    return this._selectedId ? (this._full.get(this._selectedId) ?? null) : null;
  }

  /** Why the explanation shown could not be loaded. */
  get currentError(): string | null {
    return this._currentError;
  }

  /** Reload the list; shows the newest unless another one was chosen and still exists. */
  async refresh(): Promise<void> {
    const wanted = this._startLoad();
    let summaries: ExplanationSummary[];
    try {
      summaries = await this._client.listExplanations(this.name, this.version);
    } catch (reason) {
      if (!wanted()) {
        return;
      }
      const message = loadFailure(reason, 'Explanations are');
      if (message !== this._error) {
        this._error = message;
        this._emit();
      }
      return;
    }
    if (!wanted()) {
      return;
    }
    const changed =
      !sameData(summaries, this._summaries) || this._error !== null;
    this._summaries = summaries;
    this._error = null;
    const kept =
      this._selectedId !== null &&
      summaries.some(s => s.id === this._selectedId);
    const selected = kept ? this._selectedId : (summaries[0]?.id ?? null);
    if (selected !== this._selectedId) {
      this._selectedId = selected;
      this._currentError = null;
      this._emit();
    } else if (changed) {
      this._emit();
    }
    await this._loadSelected();
  }

  /** Show another explanation of the list. */
  async select(id: string): Promise<void> {
    if (id === this._selectedId || !this._summaries?.some(s => s.id === id)) {
      return;
    }
    this._selectedId = id;
    this._currentError = null;
    this._emit();
    await this._loadSelected();
  }

  /** Fetch the selected explanation in full unless it is already there. */
  private async _loadSelected(): Promise<void> {
    const id = this._selectedId;
    if (id === null || this._full.has(id)) {
      return;
    }
    try {
      const full = await this._client.getExplanation(
        this.name,
        this.version,
        id
      );
      this._full.set(id, full);
      if (id === this._selectedId) {
        this._currentError = null;
        this._emit();
      }
    } catch (reason) {
      if (id === this._selectedId) {
        this._currentError = messageOf(reason);
        this._emit();
      }
    }
  }

  private _client: MlopsClient;
  private _summaries: ExplanationSummary[] | null = null;
  private _error: string | null = null;
  private _selectedId: string | null = null;
  private _currentError: string | null = null;
  private _full = new Map<string, Explanation>();
}

export namespace ExplanationsModel {
  export interface IOptions {
    client: MlopsClient;
    name: string;
    version: number;
  }
}
