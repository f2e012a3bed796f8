/**
 * Alert views shared by the side panel's Alerts section and a deployment tab's
 * Monitoring section: the alert list (status chip, acknowledge, retrain outcome,
 * resolved ones behind a toggle) and the alert rules (table, JSON editor,
 * "Evaluate now").
 */
import * as React from 'react';

import { Alert, AlertRule, RetrainOutcome } from './client';
import {
  actionText,
  formatAlertValue,
  kindLabel,
  retrainHeadline,
  ruleCondition,
  ruleSnippet,
  statusTone,
  validationText,
  webhookHost,
  webhookText
} from './alerting';
import { AlertsModel } from './alertsmodel';
import { EmptyInline, ErrorBanner, onEnter } from './common';
import { formatRelative, formatTime, shortId } from './format';
import { formatVersion } from './registry';
import { RulesModel } from './rulesmodel';

/** Opening the tabs an alert links to. */
export interface IAlertOpeners {
  /** Clicking an alert opens its deployment's tab (the panel); absent in the tab. */
  openDeployment?: (name: string) => void;
  openVersion: (model: string, version: number) => void;
  openRun: (runId: string) => void;
}

/** A status chip: firing, acknowledged, resolved, or a retraining's status. */
export function StatusChip(props: {
  status: string;
  title?: string;
}): JSX.Element {
  return (
    <span
      className={`mlops-StatusChip mlops-tone-${statusTone(props.status)}`}
      data-status={props.status}
      title={props.title ?? props.status}
    >
      {props.status}
    </span>
  );
}

/**
 * The alert list of an AlertsModel: open alerts (firing first), the resolved ones
 * behind "Show resolved", and an empty state.
 */
export function AlertList(
  props: IAlertOpeners & {
    model: AlertsModel;
    /** What to show when there is no open alert. */
    empty: React.ReactNode;
  }
): JSX.Element {
  const { model } = props;
  const open = model.open;
  const resolved = model.resolved;
  if (open === null) {
    return model.error ? (
      <ErrorBanner role="alert">{model.error}</ErrorBanner>
    ) : (
      <EmptyInline>Loading alerts…</EmptyInline>
    );
  }
  const firing = open.filter(a => a.status === 'firing').length;
  const now = Date.now();
  const openers: IAlertOpeners = {
    openDeployment: props.openDeployment,
    openVersion: props.openVersion,
    openRun: props.openRun
  };
  return (
    <div className="mlops-Alerts">
      {model.error && <ErrorBanner role="alert">{model.error}</ErrorBanner>}
      <div className="mlops-AlertsToolbar">
        {open.length > 0 && (
          <span className="mlops-Muted mlops-AlertCounts">
            {firing} firing · {open.length - firing} acknowledged
          </span>
        )}
        <span className="mlops-Spacer" />
        <label className="mlops-Toggle mlops-ShowResolved">
          <input
            type="checkbox"
            checked={model.showResolved}
            onChange={ev => void model.setShowResolved(ev.target.checked)}
          />
          Show resolved
          {resolved ? ` (${resolved.length})` : ''}
        </label>
      </div>
      {open.length === 0 && (
        <div className="mlops-AlertsEmpty">{props.empty}</div>
      )}
      {open.length > 0 && (
        <ul className="mlops-AlertList" aria-label="Open alerts">
          {open.map(a => (
            <AlertItem
              key={a.id}
              alert={a}
              model={model}
              now={now}
              {...openers}
            />
          ))}
        </ul>
      )}
      {resolved &&
        (resolved.length ? (
          <ul
            className="mlops-AlertList mlops-ResolvedAlerts"
            aria-label="Resolved alerts"
          >
            {resolved.map(a => (
              <AlertItem
                key={a.id}
                alert={a}
                model={model}
                now={now}
                {...openers}
              />
            ))}
          </ul>
        ) : (
          <EmptyInline>No resolved alerts.</EmptyInline>
        ))}
    </div>
  );
}

function AlertItem(
  props: IAlertOpeners & { alert: Alert; model: AlertsModel; now: number }
): JSX.Element {
  const { alert: a, model, openDeployment } = props;
  const busy = model.isBusy(a.id);
  const error = model.errorOf(a.id);
  const open = openDeployment ? () => openDeployment(a.deployment) : undefined;
  const hook = webhookText(a);
  const retrain = a.data?.retrain;
  return (
    <li
      className={`mlops-AlertItem mlops-alert-${a.status}${open ? ' mlops-mod-clickable' : ''}`}
      data-alert-id={a.id}
      data-deployment={a.deployment}
      data-kind={a.kind}
      data-status={a.status}
      tabIndex={open ? 0 : undefined}
      title={open ? `Open deployment ${a.deployment}` : undefined}
      onClick={open}
      onKeyDown={open ? onEnter(open) : undefined}
    >
      <div className="mlops-AlertHead">
        <StatusChip status={a.status} />
        {openDeployment && (
          <span className="mlops-AlertDeployment">{a.deployment}</span>
        )}
        <span className="mlops-AlertKind">{kindLabel(a.kind)}</span>
        <span className="mlops-Spacer" />
        <span
          className="mlops-Muted mlops-AlertAge"
          title={`fired ${formatTime(a.fired_at)}\nlast checked ${formatTime(a.updated_at)}`}
        >
          {formatRelative(a.fired_at, props.now)}
        </span>
        {a.status === 'firing' && (
          <button
            className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton mlops-AckButton"
            disabled={busy}
            title="Acknowledge: someone is on it (it resolves when the condition clears)"
            onClick={ev => {
              ev.stopPropagation();
              void model.acknowledge(a.id);
            }}
            onKeyDown={ev => ev.stopPropagation()}
          >
            {busy ? 'Acknowledging…' : 'Acknowledge'}
          </button>
        )}
      </div>
      <div className="mlops-AlertMessage">{a.message}</div>
      <div className="mlops-Muted mlops-AlertMeta">
        <span title={a.threshold !== null ? `threshold ${a.threshold}` : ''}>
          value {formatAlertValue(a.kind, a.value)}
          {a.threshold !== null &&
            ` · threshold ${formatAlertValue(a.kind, a.threshold)}`}
        </span>
        {a.status === 'acknowledged' && (
          <span
            className="mlops-AlertAcknowledged"
            title={`${a.acknowledged_by ?? ''} ${formatTime(a.acknowledged_at)}`}
          >
            acknowledged by {model.displayUser(a.acknowledged_by)}{' '}
            {formatRelative(a.acknowledged_at, props.now)}
          </span>
        )}
        {a.status === 'resolved' && (
          <span
            className="mlops-AlertResolved"
            title={formatTime(a.resolved_at)}
          >
            resolved {formatRelative(a.resolved_at, props.now)}
          </span>
        )}
        {hook && (
          <span
            className={`mlops-AlertWebhook${hook.ok ? '' : ' mlops-mod-failed'}`}
            title={hook.text}
          >
            {hook.text}
          </span>
        )}
      </div>
      {retrain && (
        <RetrainView
          retrain={retrain}
          openVersion={props.openVersion}
          openRun={props.openRun}
        />
      )}
      {error && (
        <div className="mlops-ActionError mlops-AlertError" role="alert">
          {error}
        </div>
      )}
    </li>
  );
}

/** The retrain action's progress or outcome on an alert. */
function RetrainView(
  props: IAlertOpeners & { retrain: RetrainOutcome }
): JSX.Element {
  const r = props.retrain;
  const validation = r.validation ? validationText(r.validation) : null;
  const stop = (ev: React.SyntheticEvent) => {
    ev.preventDefault();
    ev.stopPropagation();
  };
  return (
    <div className="mlops-Retrain" data-status={r.status}>
      <div className="mlops-RetrainHead">
        <StatusChip status={r.status} title={`retraining ${r.status}`} />
        <span className="mlops-RetrainHeadline">{retrainHeadline(r)}</span>
        {r.model && typeof r.candidate_version === 'number' && (
          <>
            <span className="mlops-Muted">candidate</span>
            <a
              className="mlops-Link mlops-RetrainCandidate"
              href="#"
              title={`Open ${r.model} ${formatVersion(r.candidate_version)} (not promoted: the registry's rules decide)`}
              onClick={ev => {
                stop(ev);
                props.openVersion(r.model!, r.candidate_version!);
              }}
            >
              {r.model} {formatVersion(r.candidate_version)}
            </a>
          </>
        )}
        {r.run_id && (
          <a
            className="mlops-Link mlops-RetrainRun"
            href="#"
            title={`Open the training run ${r.run_id}`}
            onClick={ev => {
              stop(ev);
              props.openRun(r.run_id!);
            }}
          >
            run {shortId(r.run_id, 6)}
          </a>
        )}
      </div>
      {validation && (
        <div
          className={`mlops-RetrainValidation mlops-validation-${validation.state}`}
          data-state={validation.state}
        >
          <span aria-hidden="true">
            {validation.state === 'passed'
              ? '✓ '
              : validation.state === 'failed'
                ? '✗ '
                : '– '}
          </span>
          {validation.text}
        </div>
      )}
      {r.output_notebook && (
        <div className="mlops-RetrainNotebook">
          <span className="mlops-Muted">output notebook </span>
          <code title={r.output_notebook}>{r.output_notebook}</code>
        </div>
      )}
      {r.error && <div className="mlops-RetrainError">{r.error}</div>}
    </div>
  );
}

/** The side panel's empty state: how alerts come to be. */
export function AlertsEmpty(props: { deployment?: string }): JSX.Element {
  return (
    <div className="mlops-EmptyAlerts">
      <p>
        <strong>No open alerts.</strong> Alerts fire from rules on a
        deployment&apos;s drift, performance, latency or error rate. Add rules
        from a notebook:
      </p>
      <pre className="mlops-Snippet">{ruleSnippet(props.deployment)}</pre>
      <p className="mlops-Muted">
        or in the Monitoring section of a deployment tab. The server checks them
        every minute.
      </p>
    </div>
  );
}

/** A deployment's alert rules: readable table, "Evaluate now", JSON editor. */
export function AlertRulesView({ model }: { model: RulesModel }): JSX.Element {
  const rules = model.rules;
  return (
    <div className="mlops-AlertRules">
      <div className="mlops-MonitoringToolbar">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton mlops-EvaluateButton"
          disabled={model.evaluating || !rules?.length}
          title={
            rules?.length
              ? 'Evaluate the rules now (the server does it every minute)'
              : 'No rules to evaluate'
          }
          onClick={() => void model.evaluate()}
        >
          {model.evaluating ? 'Evaluating…' : 'Evaluate now'}
        </button>
        {!model.editing && (
          <button
            className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-EditRules"
            disabled={rules === null}
            title="Edit the rules as JSON"
            onClick={() => model.edit()}
          >
            Edit rules
          </button>
        )}
        {model.evaluation && (
          <span
            className={`mlops-Note mlops-Evaluation${model.evaluation.ok ? ' mlops-Muted' : ' mlops-mod-failed'}`}
            role="status"
          >
            {model.evaluation.text}
          </span>
        )}
      </div>
      {model.error && <div className="mlops-FilterError">{model.error}</div>}
      {rules === null ? (
        !model.error && <EmptyInline>Loading rules…</EmptyInline>
      ) : rules.length ? (
        <RulesTable rules={rules} />
      ) : (
        <div className="mlops-RulesEmpty">
          <p className="mlops-Muted">
            No alert rules: nothing watches this deployment yet. “Edit rules”
            starts from an example, or from a notebook:
          </p>
          <pre className="mlops-Snippet">{ruleSnippet(model.deployment)}</pre>
        </div>
      )}
      {model.editing && <RulesEditor model={model} />}
    </div>
  );
}

function RulesTable({ rules }: { rules: AlertRule[] }): JSX.Element {
  return (
    <div className="mlops-TableScroll">
      <table className="mlops-Table mlops-RulesTable" aria-label="Alert rules">
        <thead>
          <tr>
            <th>Kind</th>
            <th>Fires when</th>
            <th>Cooldown</th>
            <th>Webhook</th>
            <th>Action</th>
          </tr>
        </thead>
        <tbody>
          {rules.map((r, i) => (
            <tr
              key={r.id ?? i}
              className="mlops-RuleRow"
              data-rule-id={r.id}
              data-kind={r.kind}
            >
              <td className="mlops-RuleKind">{kindLabel(r.kind)}</td>
              <td className="mlops-RuleCondition">{ruleCondition(r)}</td>
              <td className="mlops-RuleCooldown">{r.cooldown ?? '30m'}</td>
              <td className="mlops-RuleWebhook" title={r.webhook ?? ''}>
                {r.webhook ? webhookHost(r.webhook) : '—'}
              </td>
              <td
                className="mlops-RuleAction"
                title={r.action?.notebook ?? actionText(r.action)}
              >
                {r.action ? actionText(r.action) : '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RulesEditor({ model }: { model: RulesModel }): JSX.Element {
  const error = model.saveError;
  return (
    <div className="mlops-RulesEditor">
      <div className="mlops-Muted mlops-Note">
        A JSON list of rules; saving replaces them all (every rule is checked
        first, or none is saved). Keep a rule&apos;s <code>id</code> so its open
        alert stays with it. Kinds: <code>drift_share</code>,{' '}
        <code>column_drift</code> (<code>column</code>), <code>metric</code> (
        <code>metric</code>: accuracy, f1, rmse, mae), <code>latency_p99</code>{' '}
        (ms), <code>error_rate</code>; optional <code>window</code>,{' '}
        <code>cooldown</code>, <code>rows</code>, <code>webhook</code>,{' '}
        <code>action</code>.
      </div>
      <textarea
        className="mlops-RulesText jp-mod-styled"
        spellCheck={false}
        aria-label="Alert rules (JSON)"
        rows={Math.min(20, Math.max(6, model.text.split('\n').length))}
        value={model.text}
        disabled={model.saving}
        onChange={ev => model.setText(ev.target.value)}
        onKeyDown={ev => {
          if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
            ev.preventDefault();
            void model.save();
          }
        }}
      />
      <div className="mlops-TrafficActions">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton mlops-SaveRules"
          disabled={model.saving}
          title="Save the rules (Ctrl+Enter)"
          onClick={() => void model.save()}
        >
          {model.saving ? 'Saving…' : 'Save'}
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-CancelRules"
          disabled={model.saving}
          onClick={() => model.cancel()}
        >
          Cancel
        </button>
      </div>
      {error && (
        <div className="mlops-ActionError mlops-RulesError" role="alert">
          <strong>Not saved:</strong> {error.message}
          {error.field && (
            <span className="mlops-Muted">
              {' '}
              (field <code>{error.field}</code>)
            </span>
          )}
        </div>
      )}
    </div>
  );
}
