/**
 * The base of the frontend's models: a `changed` signal for the views, and a
 * `dispose` after which nothing is emitted.
 */

import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

export class ObservableModel implements IDisposable {
  /** Emitted whenever the model's state changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this.onDisposed();
    Signal.clearData(this);
  }

  /** Release timers and child models (called once, by `dispose`). */
  protected onDisposed(): void {
    // nothing by default
  }

  /**
   * Start a load; the returned check says whether its answer is still wanted (no
   * later load started, nothing invalidated it, the model is not disposed). A poll
   * that started before a write must not bring back the state the write replaced.
   */
  protected _startLoad(): () => boolean {
    const seq = ++this._loadSeq;
    return () => seq === this._loadSeq && !this._disposed;
  }

  /** Make the answers of loads in flight unwanted (after a write changed the state). */
  protected _invalidateLoads(): void {
    this._loadSeq++;
  }

  /** Tell the views, unless disposed. */
  protected _emit(): void {
    if (!this._disposed) {
      this._changed.emit();
    }
  }

  private _disposed = false;
  private _loadSeq = 0;
  private _changed = new Signal<this, void>(this);
}
