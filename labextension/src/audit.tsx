/**
 * The Audit section of the side panel: the chain verification status with a
 * verify button, a filter (actor, action prefix, target prefix, time range),
 * exports of the filtered events, and the events, newest first, each expandable
 * to its before/after diff.
 */
import { caretDownIcon, caretRightIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { AuditModel } from './auditmodel';
import { AuditEvent, AuditExportFormat } from './client';
import { ErrorBanner, onEnterOrSpace } from './common';
import { formatShortTime, formatTime, shortId } from './format';
import {
  actionFamily,
  AUDIT_ACTION_PREFIXES,
  auditFilterFromForm,
  AuditForm,
  EMPTY_AUDIT_FORM,
  eventDiff,
  isFilterEmpty,
  verifyStatus
} from './governance';

export function AuditView({ model }: { model: AuditModel }): JSX.Element {
  const events = model.events;
  return (
    <div className="mlops-Audit">
      <ChainStatus model={model} />
      <AuditFilterForm model={model} />
      <ExportLinks model={model} />
      {model.error && <ErrorBanner role="alert">{model.error}</ErrorBanner>}
      {events === null ? (
        !model.error && (
          <div className="mlops-Empty mlops-Muted">
            Loading the audit trail…
          </div>
        )
      ) : events.length === 0 ? (
        <div className="mlops-Empty mlops-Muted">
          {isFilterEmpty(model.filter)
            ? 'No events recorded yet: every change (runs, models, aliases, deployments, roles) is logged here.'
            : 'No events match the filter.'}
        </div>
      ) : (
        <>
          <ul className="mlops-AuditList" aria-label="Audit events">
            {events.map(e => (
              <AuditEventItem key={e.seq} event={e} />
            ))}
          </ul>
          <div className="mlops-TableFooter">
            <span className="mlops-Muted">
              {events.length} event{events.length === 1 ? '' : 's'}
              {isFilterEmpty(model.filter) ? '' : ' (filtered)'}
            </span>
            {model.hasMore && (
              <button
                className="jp-Button jp-mod-styled jp-mod-reject mlops-LoadMore mlops-AuditMore"
                disabled={model.loading}
                onClick={() => void model.loadMore()}
              >
                {model.loading ? 'Loading…' : 'Older events'}
              </button>
            )}
          </div>
        </>
      )}
    </div>
  );
}

/** Green "chain verified · N events" or red naming the first bad event. */
function ChainStatus({ model }: { model: AuditModel }): JSX.Element {
  const status = verifyStatus(model.verification);
  return (
    <div
      className={`mlops-AuditChain mlops-chain-${status.state}`}
      data-state={status.state}
      role="status"
    >
      <span className="mlops-AuditChainIcon" aria-hidden="true">
        {status.state === 'ok' ? '✓' : status.state === 'broken' ? '✗' : '…'}
      </span>
      <span className="mlops-AuditChainLabel" title={status.title}>
        {model.verifyError ?? status.label}
      </span>
      <span className="mlops-Spacer" />
      <button
        className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-AuditVerify"
        disabled={model.verifying}
        title="Recompute every event's hash and check the chain"
        onClick={() => void model.verify()}
      >
        {model.verifying ? 'Verifying…' : 'Verify'}
      </button>
    </div>
  );
}

function AuditFilterForm({ model }: { model: AuditModel }): JSX.Element {
  const [form, setForm] = React.useState<AuditForm>(EMPTY_AUDIT_FORM);
  const [error, setError] = React.useState<string | null>(null);
  const apply = (next: AuditForm = form) => {
    const parsed = auditFilterFromForm(next);
    if (parsed.error !== null) {
      setError(parsed.error);
      return;
    }
    setError(null);
    void model.setFilter(parsed.filter);
  };
  const field = (
    key: keyof AuditForm,
    label: string,
    placeholder: string,
    extra: React.InputHTMLAttributes<HTMLInputElement> = {}
  ) => (
    <label className={`mlops-AuditField mlops-AuditField-${key}`}>
      <span className="mlops-AuditFieldLabel">{label}</span>
      <input
        className="jp-mod-styled"
        type="text"
        spellCheck={false}
        placeholder={placeholder}
        aria-label={`Audit filter: ${label}`}
        value={form[key]}
        onChange={ev => setForm({ ...form, [key]: ev.target.value })}
        onKeyDown={ev => {
          if (ev.key === 'Enter') {
            apply();
          }
        }}
        {...extra}
      />
    </label>
  );
  return (
    <div className="mlops-AuditFilter">
      <div className="mlops-AuditFields">
        {field('actor', 'Actor', 'user')}
        {field('action', 'Action', 'e.g. alias, promotion', {
          list: 'mlops-audit-actions'
        })}
        {field('target', 'Target', 'e.g. cancer/3')}
      </div>
      <div className="mlops-AuditFields mlops-AuditTimes">
        {field('since', 'From', '', { type: 'datetime-local' })}
        {field('until', 'To', '', { type: 'datetime-local' })}
      </div>
      <datalist id="mlops-audit-actions">
        {AUDIT_ACTION_PREFIXES.map(a => (
          <option key={a} value={a} />
        ))}
      </datalist>
      <div className="mlops-AuditFilterButtons">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton mlops-AuditApply"
          onClick={() => apply()}
        >
          Filter
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-AuditClear"
          onClick={() => {
            setForm(EMPTY_AUDIT_FORM);
            apply(EMPTY_AUDIT_FORM);
          }}
        >
          Clear
        </button>
        {error && (
          <span
            className="mlops-FilterError mlops-AuditFilterError"
            role="alert"
          >
            {error}
          </span>
        )}
      </div>
    </div>
  );
}

/** Save a blob under a file name (an object URL clicked from a temporary link). */
function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.style.display = 'none';
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Revoked once the browser has started the download.
  window.setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function ExportLinks({ model }: { model: AuditModel }): JSX.Element {
  const link = (format: AuditExportFormat, label: string) => (
    <a
      className={`mlops-Link mlops-AuditExport mlops-AuditExport-${format}`}
      href={model.exportUrl(format)}
      download
      title={`Download the ${isFilterEmpty(model.filter) ? '' : 'filtered '}events as ${format.toUpperCase()}`}
      onClick={ev => {
        // Through the server connection: the token and XSRF headers go along.
        ev.preventDefault();
        void model.download(format).then(result => {
          if (result) {
            saveBlob(result.blob, result.filename);
          }
        });
      }}
    >
      {label}
    </a>
  );
  return (
    <div className="mlops-AuditExports">
      {link('csv', 'export CSV')}
      <span className="mlops-Muted">·</span>
      {link('json', 'export JSON')}
      {model.exportError && (
        <span className="mlops-FilterError" role="alert">
          {model.exportError}
        </span>
      )}
    </div>
  );
}

function AuditEventItem({ event: e }: { event: AuditEvent }): JSX.Element {
  const [open, setOpen] = React.useState(false);
  const Caret = open ? caretDownIcon : caretRightIcon;
  const toggle = () => setOpen(!open);
  return (
    <li
      className={`mlops-AuditEvent${open ? ' mlops-mod-expanded' : ''}`}
      data-seq={e.seq}
      data-action={e.action}
    >
      <div
        className="mlops-AuditEventRow"
        role="button"
        tabIndex={0}
        aria-expanded={open}
        title={`#${e.seq} ${e.action} ${e.target_type} ${e.target} by ${e.actor}, ${formatTime(e.time)}`}
        onClick={toggle}
        onKeyDown={onEnterOrSpace(toggle)}
      >
        <Caret.react tag="span" className="mlops-Caret" />
        <span className="mlops-AuditSeq mlops-Muted">#{e.seq}</span>
        <span
          className={`mlops-AuditAction mlops-family-${actionFamily(e.action)}`}
        >
          {e.action}
        </span>
        <span className="mlops-AuditTarget">{e.target}</span>
        <span className="mlops-Spacer" />
        <span className="mlops-AuditActor">{e.actor}</span>
        <span className="mlops-Muted mlops-AuditTime">
          {formatShortTime(e.time, Date.now())}
        </span>
      </div>
      {open && <AuditEventDetail event={e} />}
    </li>
  );
}

function AuditEventDetail({ event: e }: { event: AuditEvent }): JSX.Element {
  const diff = eventDiff(e.before, e.after);
  return (
    <div className="mlops-AuditDetail">
      <div className="mlops-AuditMeta mlops-Muted">
        {formatTime(e.time)} · {e.actor} · {e.target_type}{' '}
        <code>{e.target}</code>
      </div>
      {diff.rows.length ? (
        <table className="mlops-Table mlops-AuditDiff" aria-label="Changes">
          <thead>
            <tr>
              <th>Field</th>
              <th>Before</th>
              <th>After</th>
            </tr>
          </thead>
          <tbody>
            {diff.rows.map(row => (
              <tr
                key={row.path}
                className={`mlops-diff-${row.kind}`}
                data-kind={row.kind}
              >
                <td>
                  <code>{row.path}</code>
                </td>
                <td className="mlops-DiffBefore">
                  {row.before !== undefined ? (
                    <span className="mlops-DiffValue">{row.before}</span>
                  ) : (
                    <span className="mlops-Muted">—</span>
                  )}
                </td>
                <td className="mlops-DiffAfter">
                  {row.after !== undefined ? (
                    <span className="mlops-DiffValue">{row.after}</span>
                  ) : (
                    <span className="mlops-Muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <div className="mlops-Muted mlops-EmptyInline">
          No recorded changes.
        </div>
      )}
      {diff.unchanged.length > 0 && (
        <div className="mlops-Muted mlops-AuditUnchanged">
          unchanged: {diff.unchanged.join(', ')}
        </div>
      )}
      <div className="mlops-AuditHashes mlops-Muted">
        hash <code title={e.hash}>{shortId(e.hash, 16)}</code> · prev{' '}
        <code title={e.prev_hash}>{shortId(e.prev_hash, 16)}</code>
      </div>
    </div>
  );
}
