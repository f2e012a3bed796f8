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

  /** Tell the views, unless disposed. */
  protected _emit(): void {
    if (!this._disposed) {
      this._changed.emit();
    }
  }

  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}
