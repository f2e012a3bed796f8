/**
 * The notebook a run stored when it started, as that run saw it (the lineage graph's
 * notebook node opens it), or a notebook artifact of the run (papermill's executed
 * `output/<name>.ipynb`, opened from the run tab's artifacts): the server's
 * script-free HTML rendering shown in a sandboxed iframe (`sandbox=""`: no scripts,
 * no same-origin access; never innerHTML), with a button to open the file as it is
 * now.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import { notebookIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { MlopsApiError, MlopsClient } from './client';
import { ErrorBanner, loadErrorMessage } from './common';
import { shortId } from './format';
import { snapshotLabel } from './runfamily';

export class NotebookSnapshotWidget extends ReactWidget {
  constructor(options: NotebookSnapshotWidget.IOptions) {
    super();
    this._runId = options.runId;
    this._path = options.path;
    this._artifact = options.artifact ?? null;
    this._client = options.client;
    this._commands = options.commands;
    this.addClass('mlops-NotebookSnapshot');
    this.title.label = snapshotLabel(this._runId, this._path, this._artifact);
    this.title.caption = this._artifact
      ? `${this._artifact}, stored by run ${this._runId}`
      : this._path
        ? `${this._path} as run ${this._runId} saw it`
        : `The notebook as run ${this._runId} saw it`;
    this.title.icon = notebookIcon;
    void this.refresh();
  }

  /** The run whose stored notebook this tab shows. */
  get runId(): string {
    return this._runId;
  }

  /** The notebook's path under the Jupyter root (null when outside it). */
  get path(): string | null {
    return this._path;
  }

  /** The notebook artifact shown (e.g. `output/train.ipynb`); null: the stored source. */
  get artifact(): string | null {
    return this._artifact;
  }

  /** Load (again) the stored notebook's rendering. */
  async refresh(): Promise<void> {
    const request = ++this._request;
    try {
      const html = await this._client.runNotebookHtml(
        this._runId,
        this._artifact
      );
      if (this.isDisposed || request !== this._request) {
        return;
      }
      const changed =
        html !== this._html || this._error !== null || this._missing !== null;
      this._html = html;
      this._error = null;
      this._missing = null;
      if (changed) {
        this.update();
      }
    } catch (reason) {
      if (this.isDisposed || request !== this._request) {
        return;
      }
      this._html = null;
      if (
        reason instanceof MlopsApiError &&
        reason.status === 404 &&
        reason.error === 'not_found'
      ) {
        this._missing = reason.message;
        this._error = null;
      } else {
        this._missing = null;
        this._error = loadErrorMessage(
          reason,
          this._artifact
            ? `The notebook ${this._artifact} of run ${shortId(this._runId)}`
            : `The notebook of run ${shortId(this._runId)}`
        );
      }
      this.update();
    }
  }

  protected render(): JSX.Element {
    return (
      <NotebookSnapshotView
        runId={this._runId}
        path={this._path}
        artifact={this._artifact}
        downloadUrl={
          this._artifact
            ? this._client.artifactUrl(this._runId, this._artifact)
            : null
        }
        html={this._html}
        error={this._error}
        missing={this._missing}
        openCurrent={() => {
          if (this._path) {
            void this._commands.execute('docmanager:open', {
              path: this._path
            });
          }
        }}
      />
    );
  }

  private _runId: string;
  private _path: string | null;
  private _artifact: string | null;
  private _client: MlopsClient;
  private _commands: CommandRegistry;
  private _html: string | null = null;
  private _error: string | null = null;
  private _missing: string | null = null;
  private _request = 0;
}

export namespace NotebookSnapshotWidget {
  export interface IOptions {
    runId: string;
    /** The notebook's path under the Jupyter root (null when outside it). */
    path: string | null;
    /** A notebook artifact of the run to show instead of the stored source. */
    artifact?: string | null;
    client: MlopsClient;
    commands: CommandRegistry;
  }
}

function NotebookSnapshotView(props: {
  runId: string;
  path: string | null;
  artifact: string | null;
  downloadUrl: string | null;
  html: string | null;
  error: string | null;
  missing: string | null;
  openCurrent: () => void;
}): JSX.Element {
  const short = shortId(props.runId);
  const what = props.artifact
    ? `${props.artifact}, stored by run ${short}`
    : `${props.path ?? 'Notebook'} as run ${short} saw it`;
  return (
    <>
      <div className="mlops-SnapshotHeader">
        {props.artifact ? (
          <div className="mlops-SnapshotTitle" title={props.runId}>
            Notebook{' '}
            <code className="mlops-SnapshotPath">{props.artifact}</code> stored
            by run <code className="mlops-SnapshotRun">{short}</code>
            <span className="mlops-Muted"> (read-only)</span>
          </div>
        ) : (
          <div className="mlops-SnapshotTitle" title={props.runId}>
            Notebook{' '}
            {props.path ? (
              <code className="mlops-SnapshotPath">{props.path}</code>
            ) : (
              <span className="mlops-Muted">(outside the Jupyter root)</span>
            )}{' '}
            as run <code className="mlops-SnapshotRun">{short}</code> saw it
          </div>
        )}
        {props.downloadUrl && (
          <a
            className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-SnapshotDownload"
            href={props.downloadUrl}
            download={props.artifact?.split('/').pop()}
            title={`Download ${props.artifact}`}
          >
            Download
          </a>
        )}
        <button
          className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-SnapshotOpenCurrent"
          disabled={!props.path}
          title={
            props.path
              ? `Open ${props.path} as it is now (it may have changed since the run)`
              : 'The notebook lies outside the Jupyter root'
          }
          onClick={props.openCurrent}
        >
          {props.artifact ? 'Open source notebook' : 'Open current file'}
        </button>
      </div>
      {props.error && <ErrorBanner role="alert">{props.error}</ErrorBanner>}
      {props.missing !== null && (
        <div className="mlops-Empty mlops-Muted mlops-SnapshotMissing">
          {sentence(props.missing)}
        </div>
      )}
      {props.html !== null && (
        <iframe
          className="mlops-SnapshotFrame"
          title={what}
          sandbox=""
          referrerPolicy="no-referrer"
          srcDoc={props.html}
        />
      )}
      {props.html === null &&
        props.error === null &&
        props.missing === null && (
          <div className="mlops-Empty mlops-Muted">
            Loading the notebook {props.artifact ? `${props.artifact} ` : ''}of
            run {short}…
          </div>
        )}
    </>
  );
}

/** The server's message as a sentence (capital first letter, final period). */
function sentence(message: string): string {
  const text = message.trim();
  if (!text) {
    return 'This run has no stored notebook.';
  }
  const first = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}
