/**
 * The state of an alert list: the open alerts (all deployments in the side panel,
 * one in a deployment tab), the resolved ones when asked for, and acknowledging.
 * Views re-render on `changed`.
 */

import { Alert, MlopsApiError, MlopsClient } from './client';
import { firingCount, sortAlerts } from './alerting';
import { loadFailure, messageOf } from './model';
import { sameData } from './query';
import { ObservableModel } from './observable';

/** How many open alerts a list loads (the server's default limit). */
export const OPEN_LIMIT = 200;
/** How many resolved alerts "show resolved" loads. */
export const RESOLVED_LIMIT = 50;

export class AlertsModel extends ObservableModel {
  constructor(options: AlertsModel.IOptions) {
    super();
    this._client = options.client;
    this.deployment = options.deployment ?? null;
    this._onAcknowledged = options.onAcknowledged ?? (() => undefined);
    this._currentUser = options.currentUser ?? (() => null);
  }

  /** A user name as the list shows it: `you` for the current user. */
  displayUser(name: string | null | undefined): string {
    if (!name) {
      return '—';
    }
    return name === this._currentUser() ? 'you' : name;
  }

  /** The deployment whose alerts these are; null = every deployment. */
  readonly deployment: string | null;

  /** Emitted whenever any part of the state changes. */
  /** Firing first, then acknowledged, newest first; null until loaded. */
  get open(): Alert[] | null {
    return this._open;
  }
  /** Resolved alerts, newest first; null unless "show resolved" loaded them. */
  get resolved(): Alert[] | null {
    return this._showResolved ? this._resolved : null;
  }
  get firingCount(): number {
    return firingCount(this._open);
  }
  /** Why the last load failed (what was loaded before stays shown). */
  get error(): string | null {
    return this._error;
  }
  get showResolved(): boolean {
    return this._showResolved;
  }
  /** An acknowledge request for this alert is under way. */
  isBusy(id: string): boolean {
    return this._busy.has(id);
  }
  /** Why acknowledging this alert failed. */
  errorOf(id: string): string | null {
    return this._alertErrors.get(id) ?? null;
  }
  /** Reload the open alerts (and the resolved ones when shown). */
  async refresh(): Promise<void> {
    const wanted = this._startLoad();
    const deployment = this.deployment ?? undefined;
    const withResolved = this._showResolved;
    try {
      const [open, resolved] = await Promise.all([
        this._client.alerts({ deployment, status: 'open', limit: OPEN_LIMIT }),
        withResolved
          ? this._client.alerts({
              deployment,
              status: 'resolved',
              limit: RESOLVED_LIMIT
            })
          : Promise.resolve(this._resolved)
      ]);
      if (!wanted()) {
        return;
      }
      const sorted = sortAlerts(open);
      const changed =
        !sameData(sorted, this._open) ||
        !sameData(resolved, this._resolved) ||
        this._error !== null;
      this._open = sorted;
      this._resolved = resolved;
      this._error = null;
      if (changed) {
        this._emit();
      }
    } catch (reason) {
      if (!wanted()) {
        return;
      }
      const message = loadFailure(reason, 'Alerts are');
      if (message !== this._error) {
        this._error = message;
        this._emit();
      }
    }
  }

  /** Show (and load) or hide the resolved alerts. */
  async setShowResolved(show: boolean): Promise<void> {
    if (show === this._showResolved) {
      return;
    }
    this._showResolved = show;
    this._emit();
    if (show) {
      await this.refresh();
    }
  }

  /**
   * Acknowledge a firing alert: the answer replaces it in the list. A refusal
   * (e.g. it resolved meanwhile: 422) is shown on the alert and the list reloads.
   */
  async acknowledge(id: string): Promise<boolean> {
    if (this._busy.has(id)) {
      return false;
    }
    this._busy.add(id);
    this._alertErrors.delete(id);
    this._emit();
    let ok = false;
    try {
      const alert = await this._client.acknowledgeAlert(id);
      // A poll that started before the answer must not bring the old status back.
      this._invalidateLoads();
      this._open = sortAlerts(
        (this._open ?? []).map(a => (a.id === id ? alert : a))
      );
      ok = true;
      this._onAcknowledged(alert);
    } catch (reason) {
      const message = messageOf(reason);
      this._alertErrors.set(
        id,
        reason instanceof MlopsApiError && reason.status === 422
          ? `Not acknowledged: ${message}`
          : `Cannot acknowledge: ${message}`
      );
    } finally {
      this._busy.delete(id);
      this._emit();
    }
    if (!ok) {
      await this.refresh();
    }
    return ok;
  }

  private _client: MlopsClient;
  private _onAcknowledged: (alert: Alert) => void;
  private _currentUser: () => string | null;
  private _open: Alert[] | null = null;
  private _resolved: Alert[] | null = null;
  private _showResolved = false;
  private _error: string | null = null;
  private _busy = new Set<string>();
  private _alertErrors = new Map<string, string>();
}

export namespace AlertsModel {
  export interface IOptions {
    client: MlopsClient;
    /** Only this deployment's alerts. */
    deployment?: string | null;
    /** Called after an alert was acknowledged (e.g. to refresh other views). */
    onAcknowledged?: (alert: Alert) => void;
    /** The Jupyter user name of this session (shown as `you`). */
    currentUser?: () => string | null;
  }
}
