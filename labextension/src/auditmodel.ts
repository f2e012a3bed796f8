/**
 * The state of the Audit section: the filter, the events shown (newest first,
 * older pages appended with `before`), the chain verification, and exports.
 * Polls keep older pages and add new events on top. Views re-render on `changed`.
 */

import {
  AuditExport,
  AuditExportFormat,
  AuditFilter,
  AuditPage,
  AuditVerification,
  MlopsClient
} from './client';
import {
  appendOlderPage,
  auditQueryString,
  mergeNewestPage
} from './governance';
import { loadFailure, messageOf } from './model';
import { ObservableModel } from './observable';
import { sameData } from './query';

/** Events per page. */
export const AUDIT_PAGE_SIZE = 50;

export class AuditModel extends ObservableModel {
  constructor(options: AuditModel.IOptions) {
    super();
    this._client = options.client;
    this._pageSize = options.pageSize ?? AUDIT_PAGE_SIZE;
  }

  get filter(): AuditFilter {
    return this._filter;
  }
  /** Newest first; null until loaded for the current filter. */
  get events(): AuditPage['events'] | null {
    return this._page?.events ?? null;
  }
  get hasMore(): boolean {
    return this._page?.next !== null && this._page?.next !== undefined;
  }
  get loading(): boolean {
    return this._loading;
  }
  get error(): string | null {
    return this._error;
  }
  get verification(): AuditVerification | null {
    return this._verification;
  }
  get verifying(): boolean {
    return this._verifying;
  }
  get verifyError(): string | null {
    return this._verifyError;
  }
  get exportError(): string | null {
    return this._exportError;
  }
  /** The download URL of an export of the filtered events. */
  exportUrl(format: AuditExportFormat): string {
    return this._client.auditExportUrl(format, this._filter);
  }

  /** Show the events of another filter (from its first page). */
  async setFilter(filter: AuditFilter): Promise<void> {
    if (
      auditQueryString(filter) === auditQueryString(this._filter) &&
      this._page
    ) {
      return this.refresh();
    }
    this._filter = filter;
    this._page = null;
    this._emit();
    await this.refresh();
  }

  /**
   * Load the newest page and merge it into what is shown; verify the chain again
   * when it has grown since the last verification (or was never verified).
   */
  async refresh(): Promise<void> {
    const wanted = this._startLoad();
    const key = auditQueryString(this._filter);
    try {
      const page = await this._client.audit({
        ...this._filter,
        limit: this._pageSize
      });
      if (!wanted() || key !== auditQueryString(this._filter)) {
        return;
      }
      const merged = mergeNewestPage(this._page, page);
      const changed = !sameData(merged, this._page) || this._error !== null;
      this._page = merged;
      this._error = null;
      if (changed) {
        this._emit();
      }
    } catch (reason) {
      if (!wanted()) {
        return;
      }
      const message = loadFailure(reason, 'The audit trail is');
      if (message !== this._error) {
        this._error = message;
        this._emit();
      }
      return;
    }
    const newest = this._page?.events[0]?.seq ?? 0;
    const verifiedTo = this._verification?.head?.seq ?? -1;
    if (
      !this._verifying &&
      (this._verification === null || newest > verifiedTo) &&
      this._verifyError === null
    ) {
      await this.verify();
    }
  }

  /** Append the next older page. */
  async loadMore(): Promise<void> {
    const current = this._page;
    if (!current || current.next === null || this._loading) {
      return;
    }
    const wanted = this._startLoad();
    this._loading = true;
    this._emit();
    try {
      const page = await this._client.audit({
        ...this._filter,
        limit: this._pageSize,
        before: current.next
      });
      if (wanted()) {
        this._page = appendOlderPage(this._page ?? current, page);
        this._error = null;
      }
    } catch (reason) {
      if (wanted()) {
        this._error = messageOf(reason);
      }
    } finally {
      this._loading = false;
      this._emit();
    }
  }

  /** Check the whole hash chain (`GET audit/verify`). */
  async verify(): Promise<void> {
    if (this._verifying) {
      return;
    }
    this._verifying = true;
    this._verifyError = null;
    this._emit();
    try {
      const verification = await this._client.verifyAudit();
      this._verification = verification;
    } catch (reason) {
      this._verifyError = `Cannot verify the chain: ${messageOf(reason)}`;
    } finally {
      this._verifying = false;
      this._emit();
    }
  }

  /** Download an export of the filtered events (with the session's credentials). */
  async download(format: AuditExportFormat): Promise<AuditExport | null> {
    this._exportError = null;
    this._emit();
    try {
      return await this._client.exportAudit(format, this._filter);
    } catch (reason) {
      this._exportError = `Cannot export: ${messageOf(reason)}`;
      this._emit();
      return null;
    }
  }

  private _client: MlopsClient;
  private _pageSize: number;
  private _filter: AuditFilter = {};
  private _page: AuditPage | null = null;
  private _loading = false;
  private _error: string | null = null;
  private _verification: AuditVerification | null = null;
  private _verifying = false;
  private _verifyError: string | null = null;
  private _exportError: string | null = null;
}

export namespace AuditModel {
  export interface IOptions {
    client: MlopsClient;
    pageSize?: number;
  }
}
