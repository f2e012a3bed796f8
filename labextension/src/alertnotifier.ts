/**
 * What firing alerts do outside the panel: a badge with their number on the
 * panel's sidebar icon, and one JupyterLab notification per newly firing alert
 * (remembered in the state database, so neither a poll nor a reload repeats it).
 */
import { Notification } from '@jupyterlab/apputils';
import { IStateDB } from '@jupyterlab/statedb';
import { ReadonlyPartialJSONValue } from '@lumino/coreutils';
import { Title, Widget } from '@lumino/widgets';

import {
  badgeText,
  notificationMessage,
  panelCaption,
  pruneSeen,
  takeNewlyFiring
} from './alerting';
import { AlertsModel } from './alertsmodel';

/** The state database key of the alert ids already notified. */
export const SEEN_ALERTS_KEY = 'mlops-jlab:seen-alerts';

/** More newly firing alerts than this at once: one summary notification. */
const MAX_NOTIFICATIONS = 3;

/** The class of the panel's sidebar tab while alerts are firing. */
export const ALERTING_CLASS = 'mlops-mod-alerting';

/**
 * Show the number of firing alerts on a sidebar tab: its `data-alerts`
 * attribute (drawn by CSS over the icon), its class and its tooltip.
 */
export function setIconBadge(title: Title<Widget>, firing: number): void {
  const text = badgeText(firing);
  const { alerts: current, ...rest } = title.dataset as Record<string, string>;
  if ((current ?? '') !== text) {
    title.dataset = text ? { ...rest, alerts: text } : rest;
  }
  const classes = title.className
    .split(/\s+/)
    .filter(c => c && c !== ALERTING_CLASS);
  if (text) {
    classes.push(ALERTING_CLASS);
  }
  const className = classes.join(' ');
  if (className !== title.className) {
    title.className = className;
  }
  const caption = panelCaption(firing);
  if (caption !== title.caption) {
    title.caption = caption;
  }
}

export class AlertNotifier {
  constructor(options: AlertNotifier.IOptions) {
    this._alerts = options.alerts;
    this._title = options.title;
    this._state = options.state;
    this._openDeployment = options.openDeployment;
    this._openPanel = options.openPanel;
    this._ready = this._load();
    this._alerts.changed.connect(() => void this._update());
  }

  /** The alert ids notified (or first seen not firing) so far. */
  get seen(): string[] {
    return Array.from(this._seen);
  }

  private async _load(): Promise<void> {
    if (!this._state) {
      return;
    }
    try {
      const value = await this._state.fetch(SEEN_ALERTS_KEY);
      if (Array.isArray(value)) {
        for (const id of value) {
          if (typeof id === 'string') {
            this._seen.add(id);
          }
        }
      }
    } catch (reason) {
      console.warn('mlops-jlab: cannot read the notified alerts', reason);
    }
  }

  private async _update(): Promise<void> {
    await this._ready;
    const open = this._alerts.open;
    if (open === null) {
      return;
    }
    const fresh = takeNewlyFiring(open, this._seen);
    if (fresh.length > MAX_NOTIFICATIONS) {
      Notification.warning(
        `${fresh.length} MLOps alerts started firing (${Array.from(
          new Set(fresh.map(a => a.deployment))
        ).join(', ')}).`,
        {
          autoClose: false,
          actions: [
            {
              label: 'Show alerts',
              caption: 'Show the Alerts section of the MLOps panel',
              callback: () => this._openPanel()
            }
          ]
        }
      );
    } else {
      for (const alert of fresh) {
        const id = Notification.warning(notificationMessage(alert), {
          autoClose: false,
          actions: [
            {
              label: 'Open',
              caption: `Open the tab of deployment ${alert.deployment}`,
              callback: () => this._openDeployment(alert.deployment)
            }
          ]
        });
        this._toasts.set(alert.id, id);
      }
    }
    // A toast whose alert was acknowledged or resolved has said what it had to.
    for (const [alertId, toast] of Array.from(this._toasts)) {
      if (!open.some(a => a.id === alertId && a.status === 'firing')) {
        Notification.dismiss(toast);
        this._toasts.delete(alertId);
      }
    }
    setIconBadge(this._title, this._alerts.firingCount);
    if (fresh.length) {
      this._seen = new Set(pruneSeen(Array.from(this._seen), open));
      await this._save();
    }
  }

  private async _save(): Promise<void> {
    if (!this._state) {
      return;
    }
    try {
      await this._state.save(
        SEEN_ALERTS_KEY,
        Array.from(this._seen) as ReadonlyPartialJSONValue
      );
    } catch (reason) {
      console.warn('mlops-jlab: cannot store the notified alerts', reason);
    }
  }

  private _alerts: AlertsModel;
  private _title: Title<Widget>;
  private _state: IStateDB | null;
  private _openDeployment: (name: string) => void;
  private _openPanel: () => void;
  private _ready: Promise<void>;
  private _seen = new Set<string>();
  private _toasts = new Map<string, string>();
}

export namespace AlertNotifier {
  export interface IOptions {
    alerts: AlertsModel;
    /** The title of the panel whose sidebar tab gets the badge. */
    title: Title<Widget>;
    /** Where the notified alert ids are kept across reloads. */
    state: IStateDB | null;
    openDeployment: (name: string) => void;
    openPanel: () => void;
  }
}
