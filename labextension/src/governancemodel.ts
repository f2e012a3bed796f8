/**
 * The governance state shared by the side panel and the model version tabs: the
 * acting user and their role (`GET me`), the promotion requests (pending first),
 * the loaded details of requests, and requesting, approving, rejecting and
 * cancelling. Views re-render on `changed`; `promotionChanged` tells the views
 * that show aliases when a request was decided.
 */

import { ISignal, Signal } from '@lumino/signaling';

import { Me, MlopsClient, Promotion, PromotionDetail } from './client';
import { actionErrorMessage, sortPromotions } from './governance';
import { loadFailure, messageOf } from './model';
import { ObservableModel } from './observable';
import { sameData } from './query';

/** How many requests the list loads. */
export const PROMOTIONS_LIMIT = 100;

export class GovernanceModel extends ObservableModel {
  constructor(options: GovernanceModel.IOptions) {
    super();
    this._client = options.client;
  }

  /** A request was made, decided or cancelled here (the answer is passed). */
  get promotionChanged(): ISignal<this, Promotion> {
    return this._promotionChanged;
  }

  /** The acting user; null until loaded (or when the server has no governance). */
  get me(): Me | null {
    return this._me;
  }
  /** Why `GET me` failed. */
  get meError(): string | null {
    return this._meError;
  }
  /** Pending first, then newest first; null until loaded. */
  get promotions(): Promotion[] | null {
    return this._promotions;
  }
  get promotionsError(): string | null {
    return this._promotionsError;
  }
  /** The loaded detail of a request (validation, metrics diff). */
  detailOf(id: string): PromotionDetail | null {
    return this._details.get(id) ?? null;
  }
  detailError(id: string): string | null {
    return this._detailErrors.get(id) ?? null;
  }
  /** An action on this request (or the request of a version: `model/version`) is under way. */
  isBusy(key: string): boolean {
    return this._busy.has(key);
  }
  /** Why the last action on this request (or version) failed. */
  errorOf(key: string): string | null {
    return this._actionErrors.get(key) ?? null;
  }
  clearError(key: string): void {
    if (this._actionErrors.delete(key)) {
      this._emit();
    }
  }

  /** Reload the identity and the requests (and the details already loaded). */
  async refresh(): Promise<void> {
    await Promise.all([this.refreshMe(), this.refreshPromotions()]);
  }

  async refreshMe(): Promise<void> {
    try {
      const me = await this._client.me();
      if (this.isDisposed) {
        return;
      }
      if (!sameData(me, this._me) || this._meError !== null) {
        this._me = me;
        this._meError = null;
        this._emit();
      }
    } catch (reason) {
      const message = loadFailure(reason, 'Roles are');
      if (!this.isDisposed && message !== this._meError) {
        this._meError = message;
        this._emit();
      }
    }
  }

  async refreshPromotions(): Promise<void> {
    const wanted = this._startLoad();
    try {
      const list = sortPromotions(
        await this._client.promotions({ limit: PROMOTIONS_LIMIT })
      );
      if (!wanted()) {
        return;
      }
      // A loaded detail whose request changed is loaded again.
      const stale = list.filter(p => {
        const detail = this._details.get(p.id);
        return detail && !sameRequest(detail, p);
      });
      const changed =
        !sameData(list, this._promotions) || this._promotionsError !== null;
      this._promotions = list;
      this._promotionsError = null;
      if (changed) {
        this._emit();
      }
      await Promise.all(stale.map(p => this.loadDetail(p.id)));
    } catch (reason) {
      if (!wanted()) {
        return;
      }
      const message = loadFailure(reason, 'Promotions are');
      if (message !== this._promotionsError) {
        this._promotionsError = message;
        this._emit();
      }
    }
  }

  /** Load (or reload) the detail of a request. */
  async loadDetail(id: string): Promise<void> {
    try {
      const detail = await this._client.promotion(id);
      if (this.isDisposed) {
        return;
      }
      const changed =
        !sameData(detail, this._details.get(id)) || this._detailErrors.has(id);
      this._details.set(id, detail);
      this._detailErrors.delete(id);
      if (changed) {
        this._emit();
      }
    } catch (reason) {
      if (!this.isDisposed) {
        this._detailErrors.set(id, messageOf(reason));
        this._emit();
      }
    }
  }

  /**
   * Ask to promote a version to production. Errors (403, 409, 422) are kept under
   * the key `model/version`.
   */
  async request(
    model: string,
    version: number,
    comment: string
  ): Promise<Promotion | null> {
    return this._act(versionKey(model, version), 'request the promotion', () =>
      this._client.requestPromotion(model, version, comment.trim())
    );
  }

  /** Approve or reject a request (the comment is required). */
  async decide(
    id: string,
    decision: 'approve' | 'reject',
    comment: string
  ): Promise<Promotion | null> {
    if (!comment.trim()) {
      this._actionErrors.set(id, `A comment is required to ${decision}.`);
      this._emit();
      return null;
    }
    return this._act(id, `${decision} this request`, () =>
      decision === 'approve'
        ? this._client.approvePromotion(id, comment.trim())
        : this._client.rejectPromotion(id, comment.trim())
    );
  }

  async cancel(id: string): Promise<Promotion | null> {
    return this._act(id, 'cancel this request', () =>
      this._client.cancelPromotion(id)
    );
  }

  private async _act(
    key: string,
    what: string,
    action: () => Promise<Promotion>
  ): Promise<Promotion | null> {
    if (this._busy.has(key)) {
      return null;
    }
    this._busy.add(key);
    this._actionErrors.delete(key);
    this._emit();
    let result: Promotion | null = null;
    try {
      result = await action();
    } catch (reason) {
      this._actionErrors.set(key, actionErrorMessage(reason, what));
    } finally {
      this._busy.delete(key);
      this._emit();
    }
    // The list, and the detail of the request, either way (someone else may
    // have decided meanwhile).
    await this.refreshPromotions();
    const id = result?.id ?? (this._details.has(key) ? key : null);
    if (id) {
      await this.loadDetail(id);
    }
    if (result && !this.isDisposed) {
      this._promotionChanged.emit(result);
    }
    return result;
  }

  private _client: MlopsClient;
  private _me: Me | null = null;
  private _meError: string | null = null;
  private _promotions: Promotion[] | null = null;
  private _promotionsError: string | null = null;
  private _details = new Map<string, PromotionDetail>();
  private _detailErrors = new Map<string, string>();
  private _busy = new Set<string>();
  private _actionErrors = new Map<string, string>();
  private _promotionChanged = new Signal<this, Promotion>(this);
}

export namespace GovernanceModel {
  export interface IOptions {
    client: MlopsClient;
  }
}

/** The key of a version's promotion request actions: `model/version`. */
export function versionKey(model: string, version: number): string {
  return `${model}/${version}`;
}

/** Whether a loaded detail still describes the request as listed. */
function sameRequest(detail: PromotionDetail, listed: Promotion): boolean {
  return (
    detail.status === listed.status &&
    detail.approvals === listed.approvals &&
    (detail.decisions ?? []).length === (listed.decisions ?? []).length
  );
}
