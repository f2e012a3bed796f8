/**
 * The Explanations section of a model version's tab: how the shown explanation was
 * computed (and a selector when there are several), its top features as a table, and
 * its stored figures (importance, partial dependence, local) redrawn in the theme.
 */
import * as React from 'react';

import { Explanation } from './client';
import { EmptyInline, Fact } from './common';
import {
  explainSnippet,
  explanationFigures,
  explanationLabel,
  explanationMethod,
  topFeatures
} from './explanation';
import { ExplanationsModel } from './explanationsmodel';
import { FigureCard } from './figurecard';
import { formatMetric, formatRelative, formatTime, shortId } from './format';

export function ExplanationsView(props: {
  model: ExplanationsModel;
  themeVersion: number;
}): JSX.Element {
  const m = props.model;
  if (m.error) {
    return <div className="mlops-FilterError">{m.error}</div>;
  }
  if (m.summaries === null) {
    return <EmptyInline>Loading explanations…</EmptyInline>;
  }
  if (!m.summaries.length) {
    return (
      <EmptyInline>
        No explanation yet: run{' '}
        <code className="mlops-ExplainSnippet">
          {explainSnippet(m.name, m.version)}
        </code>{' '}
        in a notebook with data the model takes (features <code>X</code>,
        targets <code>y</code>).
      </EmptyInline>
    );
  }
  const current = m.current;
  return (
    <div className="mlops-Explanations">
      {m.summaries.length > 1 && (
        <label className="mlops-ExplanationPicker">
          <span className="mlops-Muted">Explanation</span>
          <select
            className="jp-mod-styled"
            value={m.selectedId ?? ''}
            onChange={ev => void m.select(ev.target.value)}
          >
            {m.summaries.map((s, i) => (
              <option key={s.id} value={s.id}>
                {explanationLabel(s)}
                {i === 0 ? ' (latest)' : ''}
              </option>
            ))}
          </select>
        </label>
      )}
      {m.currentError && (
        <div className="mlops-FilterError">{m.currentError}</div>
      )}
      {current ? (
        <ExplanationDetail
          explanation={current}
          themeVersion={props.themeVersion}
        />
      ) : (
        !m.currentError && <EmptyInline>Loading the explanation…</EmptyInline>
      )}
    </div>
  );
}

function ExplanationDetail(props: {
  explanation: Explanation;
  themeVersion: number;
}): JSX.Element {
  const e = props.explanation;
  const figures = explanationFigures(e);
  return (
    <>
      <dl className="mlops-RunFacts mlops-ExplanationFacts">
        <Fact label="Method">{explanationMethod(e)}</Fact>
        <Fact label="Explains">{e.target || '—'}</Fact>
        <Fact label="Rows">{e.rows}</Fact>
        <Fact label="Task">{e.task}</Fact>
        <Fact label="Created" title={formatTime(e.created_at)}>
          {formatRelative(e.created_at)} by {e.created_by || '—'}
        </Fact>
        <Fact label="Data" title={e.data_fingerprint}>
          <code>{shortId(e.data_fingerprint, 12)}</code>
        </Fact>
      </dl>
      <div className="mlops-ExplanationBody">
        <TopFeaturesTable explanation={e} />
        {figures.map(f => (
          <FigureCard
            key={f.key}
            figure={f.figure}
            dataKey={`${e.id}/${f.key}`}
            themeVersion={props.themeVersion}
            fallbackTitle={f.fallbackTitle}
            className={`mlops-ExplanationChart mlops-explanation-${f.key}`}
          />
        ))}
      </div>
    </>
  );
}

/** The top features as a table: rank, name, mean drop of the score (± std), a bar. */
function TopFeaturesTable(props: { explanation: Explanation }): JSX.Element {
  const e = props.explanation;
  const { rows, more } = topFeatures(e.importance);
  if (!rows.length) {
    return <EmptyInline>No feature importance recorded.</EmptyInline>;
  }
  const scoring = e.scoring || 'score';
  return (
    <div className="mlops-TopFeatures">
      <table className="mlops-Table mlops-TopFeaturesTable">
        <caption className="mlops-TopFeaturesCaption">
          Top features: mean drop of {scoring} when the feature is shuffled
        </caption>
        <thead>
          <tr>
            <th className="mlops-col-num">#</th>
            <th>Feature</th>
            <th className="mlops-col-num">Importance</th>
            <th className="mlops-col-num">± std</th>
            <th aria-hidden="true" className="mlops-TopFeaturesBarHead" />
          </tr>
        </thead>
        <tbody>
          {rows.map(r => (
            <tr key={r.feature} data-feature={r.feature}>
              <td className="mlops-col-num mlops-Muted">{r.rank}</td>
              <td className="mlops-TopFeatureName" title={r.feature}>
                {r.feature}
              </td>
              <td className="mlops-col-num" title={String(r.mean)}>
                {formatMetric(r.mean)}
              </td>
              <td className="mlops-col-num mlops-Muted" title={String(r.std)}>
                {formatMetric(r.std)}
              </td>
              <td aria-hidden="true" className="mlops-TopFeatureBarCell">
                <span
                  className="mlops-TopFeatureBar"
                  style={{ width: `${Math.round(r.share * 100)}%` }}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {more > 0 && (
        <div className="mlops-Muted mlops-Note">
          {more} more feature{more === 1 ? '' : 's'} in the importance chart.
        </div>
      )}
    </div>
  );
}
