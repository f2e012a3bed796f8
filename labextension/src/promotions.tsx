/**
 * Promotion requests (four-eyes approval to `production`): the panel's list
 * (pending first), the expandable card of a request (validation report, metrics
 * diff against the production version, decisions, Approve / Reject with a
 * required comment, Cancel) and the version tab's "Request promotion" form.
 * Buttons the user's role does not allow are not rendered.
 */
import { caretDownIcon, caretRightIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { Promotion, PromotionDetail } from './client';
import {
  EmptyInline,
  ErrorBanner,
  onEnterOrSpace,
  RuleResultCells
} from './common';
import { formatMetric, formatRelative, formatTime } from './format';
import {
  approvalProgress,
  deltaState,
  formatDelta,
  promotionRights
} from './governance';
import { GovernanceModel, versionKey } from './governancemodel';
import { formatVersion } from './registry';

/** The panel's Promotions section. */
export function PromotionList(props: {
  model: GovernanceModel;
  openVersion: (name: string, version: number) => void;
}): JSX.Element {
  const { model } = props;
  const list = model.promotions;
  if (model.promotionsError && list === null) {
    return (
      <div className="mlops-Empty">
        <ErrorBanner role="alert">{model.promotionsError}</ErrorBanner>
      </div>
    );
  }
  if (list === null) {
    return <div className="mlops-Empty mlops-Muted">Loading…</div>;
  }
  if (!list.length) {
    return (
      <div className="mlops-Empty mlops-Muted">
        No promotion requests. Ask for one from a model version tab
        (&quot;Request promotion to production&quot;) or with{' '}
        <code>mlops.request_promotion(name, version, comment)</code>.
      </div>
    );
  }
  return (
    <>
      {model.promotionsError && (
        <ErrorBanner role="alert">{model.promotionsError}</ErrorBanner>
      )}
      <ul className="mlops-PromotionList" aria-label="Promotion requests">
        {list.map(p => (
          <PromotionItem
            key={p.id}
            model={model}
            promotion={p}
            openVersion={props.openVersion}
          />
        ))}
      </ul>
    </>
  );
}

function PromotionItem(props: {
  model: GovernanceModel;
  promotion: Promotion;
  openVersion: (name: string, version: number) => void;
}): JSX.Element {
  const { model, promotion: p } = props;
  const [open, setOpen] = React.useState(false);
  const Caret = open ? caretDownIcon : caretRightIcon;
  const toggle = () => {
    if (!open) {
      void model.loadDetail(p.id);
    }
    setOpen(!open);
  };
  return (
    <li
      className={`mlops-PromotionItem mlops-pstatus-${p.status}`}
      data-promotion={p.id}
      data-model={p.model}
      data-version={p.version}
      data-status={p.status}
    >
      <div
        className={`mlops-PromotionRow${open ? ' mlops-mod-expanded' : ''}`}
        role="button"
        tabIndex={0}
        aria-expanded={open}
        title={`${p.model} ${formatVersion(p.version)} → ${p.alias}, requested by ${p.requester} ${formatTime(p.created_at)}`}
        onClick={toggle}
        onKeyDown={onEnterOrSpace(toggle)}
      >
        <Caret.react tag="span" className="mlops-Caret" />
        <span className="mlops-PromotionTitle">
          {p.model} {formatVersion(p.version)}
          <span className="mlops-Muted"> → {p.alias}</span>
        </span>
        <PromotionStatus promotion={p} />
        <span className="mlops-Spacer" />
        <span className="mlops-Muted mlops-PromotionWho">
          {p.requester} · {formatRelative(p.created_at)}
        </span>
      </div>
      {open && (
        <PromotionCard
          model={model}
          promotion={p}
          openVersion={props.openVersion}
        />
      )}
    </li>
  );
}

/** `pending 0/1`, `approved`, `rejected`, `cancelled`. */
export function PromotionStatus({
  promotion: p
}: {
  promotion: Promotion;
}): JSX.Element {
  return (
    <span
      className={`mlops-PromotionStatus mlops-pstatus-${p.status}`}
      title={`${p.status}, ${approvalProgress(p)}`}
    >
      {p.status}
      {p.status === 'pending' && (
        <span className="mlops-PromotionProgress">
          {' '}
          {p.approvals}/{p.required_approvals}
        </span>
      )}
    </span>
  );
}

/**
 * What an approver needs to decide, and the decision form (for the current user,
 * when allowed). Loads the request's detail when it is not loaded yet.
 */
export function PromotionCard(props: {
  model: GovernanceModel;
  promotion: Promotion;
  openVersion?: (name: string, version: number) => void;
}): JSX.Element {
  const { model, promotion: listed } = props;
  const detail = model.detailOf(listed.id);
  React.useEffect(() => {
    if (!detail) {
      void model.loadDetail(listed.id);
    }
  }, [listed.id]);
  // The newest of the two (the list polls; the detail loads on demand).
  const p: Promotion = detail ?? listed;
  const rights = promotionRights(model.me, p);
  const error = model.errorOf(p.id);
  return (
    <div className="mlops-PromotionCard" data-promotion={p.id}>
      <div className="mlops-PromotionFacts">
        <span>
          requested by <strong>{p.requester}</strong>{' '}
          <span title={formatTime(p.created_at)}>
            {formatRelative(p.created_at)}
          </span>
        </span>
        <span className="mlops-Muted">
          {approvalProgress(p)}
          {p.self_approval ? ' · self-approval allowed' : ''}
        </span>
        {props.openVersion && (
          <a
            className="mlops-Link mlops-PromotionOpen"
            href="#"
            onClick={ev => {
              ev.preventDefault();
              props.openVersion!(p.model, p.version);
            }}
          >
            open {formatVersion(p.version)}
          </a>
        )}
      </div>
      {p.comment && (
        <blockquote className="mlops-PromotionComment">{p.comment}</blockquote>
      )}
      {model.detailError(p.id) && (
        <div className="mlops-FilterError">{model.detailError(p.id)}</div>
      )}
      {detail ? (
        <>
          <MetricsDiff detail={detail} />
          <ValidationReport detail={detail} />
        </>
      ) : (
        !model.detailError(p.id) && (
          <div className="mlops-Muted">Loading the request…</div>
        )
      )}
      <Decisions promotion={p} />
      {rights.note && (
        <div className="mlops-Muted mlops-PromotionNote">{rights.note}</div>
      )}
      {(rights.decide || rights.cancel) && (
        <DecisionForm
          decide={rights.decide}
          cancel={rights.cancel}
          busy={model.isBusy(p.id)}
          onDecide={(decision, comment) =>
            model.decide(p.id, decision, comment)
          }
          onCancel={() => void model.cancel(p.id)}
        />
      )}
      {error && (
        <div className="mlops-ActionError mlops-PromotionError" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

function MetricsDiff({ detail }: { detail: PromotionDetail }): JSX.Element {
  const rows = detail.metrics_diff ?? [];
  const production = detail.production_version;
  // Once approved, the candidate is production itself: nothing to compare with.
  const isProduction = production === detail.version;
  const against =
    production !== null && production !== undefined && !isProduction
      ? `production ${formatVersion(production)}`
      : null;
  return (
    <div className="mlops-PromotionBlock">
      <h4 className="mlops-SubTitle">
        Metrics{' '}
        <span className="mlops-Muted">
          {against
            ? `vs ${against}`
            : isProduction
              ? '(this version is production now)'
              : '(no production version yet)'}
        </span>
      </h4>
      {rows.length ? (
        <table className="mlops-Table mlops-MetricsDiff">
          <thead>
            <tr>
              <th>Metric</th>
              <th className="mlops-col-num">
                Candidate {formatVersion(detail.version)}
              </th>
              {against && <th className="mlops-col-num">Production</th>}
              {against && <th className="mlops-col-num">Δ</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map(r => (
              <tr key={r.metric}>
                <td>
                  <code>{r.metric}</code>
                </td>
                <td className="mlops-col-num" title={String(r.candidate ?? '')}>
                  {formatMetric(r.candidate)}
                </td>
                {against && (
                  <td
                    className="mlops-col-num"
                    title={String(r.production ?? '')}
                  >
                    {formatMetric(r.production)}
                  </td>
                )}
                {against && (
                  <td
                    className={`mlops-col-num mlops-delta-${deltaState(r.metric, r.delta)}`}
                    title={String(r.delta ?? '')}
                  >
                    {formatDelta(r.delta, formatMetric)}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <EmptyInline>No metrics recorded.</EmptyInline>
      )}
    </div>
  );
}

function ValidationReport({
  detail
}: {
  detail: PromotionDetail;
}): JSX.Element {
  const v = detail.validation;
  return (
    <div className="mlops-PromotionBlock">
      <h4 className="mlops-SubTitle">
        Validation{' '}
        {v && (
          <span
            className={`mlops-ValidationBadge mlops-validation-${v.passed ? 'passed' : 'failed'}`}
            title={formatTime(v.created_at)}
          >
            {v.passed ? '✓ passed' : '✗ failed'}
          </span>
        )}
      </h4>
      {!v ? (
        <EmptyInline>No validation report.</EmptyInline>
      ) : v.results.length ? (
        <table className="mlops-Table mlops-ReportTable">
          <thead>
            <tr>
              <th>Rule</th>
              <th className="mlops-col-num">Value</th>
              <th className="mlops-col-num">Threshold</th>
              <th>Result</th>
            </tr>
          </thead>
          <tbody>
            {v.results.map((r, i) => (
              <tr
                key={`${r.rule}-${i}`}
                className={r.passed ? 'mlops-mod-passed' : 'mlops-mod-failed'}
                title={r.detail}
              >
                <RuleResultCells
                  rule={r.rule}
                  value={r.value}
                  threshold={r.threshold}
                  passed={r.passed}
                />
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <EmptyInline>No rules were checked.</EmptyInline>
      )}
    </div>
  );
}

function Decisions({ promotion: p }: { promotion: Promotion }): JSX.Element {
  const decisions = p.decisions ?? [];
  return (
    <div className="mlops-PromotionBlock">
      <h4 className="mlops-SubTitle">Decisions</h4>
      {decisions.length ? (
        <ul className="mlops-Decisions">
          {decisions.map((d, i) => (
            <li
              key={`${d.user}-${i}`}
              className={`mlops-Decision mlops-decision-${d.decision}`}
            >
              <span className="mlops-DecisionIcon" aria-hidden="true">
                {d.decision === 'approve' ? '✓' : '✗'}
              </span>
              <strong>{d.user}</strong>{' '}
              {d.decision === 'approve' ? 'approved' : 'rejected'}{' '}
              <span className="mlops-Muted" title={formatTime(d.at)}>
                {formatRelative(d.at)}
              </span>
              {d.comment && (
                <div className="mlops-DecisionComment">{d.comment}</div>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <EmptyInline>
          {p.status === 'pending' ? 'No decisions yet.' : 'No decisions.'}
        </EmptyInline>
      )}
    </div>
  );
}

function DecisionForm(props: {
  decide: boolean;
  cancel: boolean;
  busy: boolean;
  onDecide: (
    decision: 'approve' | 'reject',
    comment: string
  ) => Promise<Promotion | null>;
  onCancel: () => void;
}): JSX.Element {
  const [comment, setComment] = React.useState('');
  const submit = async (decision: 'approve' | 'reject') => {
    if (await props.onDecide(decision, comment)) {
      setComment('');
    }
  };
  const empty = !comment.trim();
  return (
    <div className="mlops-DecisionForm">
      {props.decide && (
        <>
          <textarea
            className="jp-mod-styled mlops-DecisionComment-input"
            rows={2}
            placeholder="Comment (required): why approve or reject?"
            aria-label="Decision comment"
            value={comment}
            disabled={props.busy}
            onChange={ev => setComment(ev.target.value)}
          />
          <div className="mlops-DecisionButtons">
            <button
              className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton mlops-Approve"
              disabled={props.busy || empty}
              title={empty ? 'Write a comment first' : 'Approve this promotion'}
              onClick={() => void submit('approve')}
            >
              Approve
            </button>
            <button
              className="jp-Button jp-mod-styled jp-mod-warn mlops-SmallButton mlops-Reject"
              disabled={props.busy || empty}
              title={empty ? 'Write a comment first' : 'Reject this promotion'}
              onClick={() => void submit('reject')}
            >
              Reject
            </button>
            {props.cancel && <CancelButton {...props} />}
          </div>
        </>
      )}
      {!props.decide && props.cancel && (
        <div className="mlops-DecisionButtons">
          <CancelButton {...props} />
        </div>
      )}
    </div>
  );
}

function CancelButton(props: {
  busy: boolean;
  onCancel: () => void;
}): JSX.Element {
  return (
    <button
      className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton mlops-CancelPromotion"
      disabled={props.busy}
      title="Withdraw this request"
      onClick={props.onCancel}
    >
      Cancel request
    </button>
  );
}

/**
 * The version tab's promotion block: the pending request of the version (its
 * card), else the "Request promotion to production" form when the role allows it.
 */
export function VersionPromotion(props: {
  model: GovernanceModel;
  name: string;
  version: number;
  pending: Promotion | null;
  canRequest: boolean;
}): JSX.Element | null {
  const { model, name, version, pending } = props;
  const key = versionKey(name, version);
  const [open, setOpen] = React.useState(false);
  const [comment, setComment] = React.useState('');
  const error = model.errorOf(key);
  if (pending) {
    return (
      <div className="mlops-VersionPromotion">
        <div className="mlops-VersionPromotionHead">
          <strong>Promotion to {pending.alias} requested</strong>
          <PromotionStatus promotion={pending} />
        </div>
        <PromotionCard model={model} promotion={pending} />
      </div>
    );
  }
  if (!props.canRequest) {
    return null;
  }
  const submit = async () => {
    const result = await model.request(name, version, comment);
    if (result) {
      setComment('');
      setOpen(false);
    }
  };
  return (
    <div className="mlops-VersionPromotion">
      {!open ? (
        <button
          className="jp-Button jp-mod-styled jp-mod-accept mlops-RequestPromotion"
          title="Ask an approver to point the production alias at this version"
          onClick={() => {
            model.clearError(key);
            setOpen(true);
          }}
        >
          Request promotion to production
        </button>
      ) : (
        <div className="mlops-RequestForm">
          <strong className="mlops-RequestTitle">
            Request promotion of {formatVersion(version)} to production
          </strong>
          <span className="mlops-Muted">
            An approver other than you decides; the latest validation must pass.
          </span>
          <textarea
            className="jp-mod-styled mlops-RequestComment"
            rows={2}
            placeholder="Why this version? (e.g. beats v2 on F1, same latency)"
            aria-label="Promotion request comment"
            value={comment}
            disabled={model.isBusy(key)}
            onChange={ev => setComment(ev.target.value)}
          />
          <div className="mlops-DecisionButtons">
            <button
              className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton mlops-RequestSubmit"
              disabled={model.isBusy(key)}
              onClick={() => void submit()}
            >
              {model.isBusy(key) ? 'Requesting…' : 'Request'}
            </button>
            <button
              className="jp-Button jp-mod-styled jp-mod-reject mlops-SmallButton"
              disabled={model.isBusy(key)}
              onClick={() => setOpen(false)}
            >
              Cancel
            </button>
          </div>
        </div>
      )}
      {error && (
        <div className="mlops-ActionError mlops-PromotionError" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}
