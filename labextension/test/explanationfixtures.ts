import type { Explanation, ExplanationSummary } from '../src/client';

/** A stored explanation as the server lists it (no figures, no local values). */
export function summary(
  id: string,
  createdAt: number,
  extra: Partial<ExplanationSummary> = {}
): ExplanationSummary {
  return {
    id,
    model: 'iris-clf',
    version: 3,
    created_at: createdAt,
    created_by: 'alice',
    task: 'classification',
    scoring: 'accuracy',
    rows: 200,
    data_fingerprint: 'f'.repeat(64),
    local_method: 'shap.TreeExplainer',
    target: "probability of class 'malignant'",
    importance: [
      { feature: 'worst radius', mean: 0.061, std: 0.008 },
      { feature: 'mean texture', mean: 0.02, std: 0.004 }
    ],
    ...extra
  };
}

/** The same explanation in full, with its three figures. */
export function full(s: ExplanationSummary): Explanation {
  const figure = (title: string) => ({
    data: [{ type: 'bar', x: [1], y: ['a'] }],
    layout: { title: { text: `<b>${title}</b>` }, template: {} }
  });
  return {
    ...s,
    partial_dependence: [
      {
        feature: 'worst radius',
        kind: 'numeric',
        grid: [10, 20],
        average: [0.2, 0.8]
      }
    ],
    local: {
      features: ['worst radius', 'mean texture'],
      base_value: 0.37,
      rows: [
        {
          index: 0,
          prediction: 0.91,
          values: [20, 11],
          contributions: [0.5, 0.04]
        }
      ]
    },
    figures: {
      importance: figure('Permutation importance'),
      partial_dependence: figure('Partial dependence'),
      local: figure('Local explanations')
    }
  };
}
