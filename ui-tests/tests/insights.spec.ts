import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  collectMlopsConsoleErrors,
  hideToasts,
  runSeedScript,
  screenshot,
  screenshotBothThemes
} from './helpers';

/**
 * Explanations, AutoML and federated learning in the UI: a model version's
 * Explanations section (the method, the top features table, the stored importance,
 * partial dependence and local charts, the selector between two explanations; the
 * hint on a version without one), and the run tabs of an AutoML search and a
 * federated training (their stored charts, their trials and rounds as child runs).
 */

const MODEL = 'explained-clf';
const VERSION_TAB = '.jp-MainAreaWidget.mlops-ModelVersionTab:visible';
const RUN_TAB = '.jp-MainAreaWidget.mlops-RunDetailTab:visible';

/**
 * Real work in the kernel, kept small: a random forest on the breast cancer data,
 * registered (v1) and explained twice (all test rows, then 60 of them), a second
 * version never explained; an 8 s AutoML search; three rounds of federated logistic
 * regression over three sites.
 */
const SEED = `import json
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
import mlops_jlab as mlops

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
model = RandomForestClassifier(n_estimators=40, max_depth=5, random_state=0).fit(X_train, y_train)
mlops.set_experiment("explain-seed")
with mlops.start_run(name="explained-rf") as run:
    run.log_model(model, "model", input_example=X.head())
v1 = mlops.register_model(run, "${MODEL}")
with mlops.start_run(name="unexplained-rf") as run2:
    run2.log_model(model, "model", input_example=X.head())
v2 = mlops.register_model(run2, "${MODEL}")
mlops.explain("models:/${MODEL}/1", X_test.head(60), y_test.head(60))
mlops.explain("models:/${MODEL}/1", X_test, y_test)

automl = mlops.automl(X, y, task="classification", time_budget=8, experiment="automl-seed")

Xs = np.array_split(X.to_numpy(), 3)
ys = np.array_split(y.to_numpy(), 3)
sites = {name: (Xs[i], ys[i]) for i, name in enumerate(["a", "b", "c"])}
fed = mlops.federated(sites, model="logistic", rounds=3, engine="local", experiment="fed-seed")

print("IDS", json.dumps({"automl": automl.run_id, "federated": fed.run_id}))
print("seeded")
`;

let ids: { automl: string; federated: string } | null = null;

async function openVersion(
  page: IJupyterLabPageFixture,
  version: number
): Promise<Locator> {
  await page.evaluate(
    async args => {
      await (window as any).jupyterapp.commands.execute(
        'mlops:open-model-version',
        args
      );
    },
    { name: MODEL, version }
  );
  const tab = page.locator(VERSION_TAB);
  await expect(tab.locator('.mlops-VersionTitle')).toContainText(`v${version}`);
  return tab;
}

async function openRun(
  page: IJupyterLabPageFixture,
  runId: string
): Promise<Locator> {
  await page.evaluate(async id => {
    await (window as any).jupyterapp.commands.execute('mlops:open-run', {
      runId: id
    });
  }, runId);
  return page.locator(RUN_TAB);
}

/**
 * Scroll a section of a detail tab to the top of the tab, the pointer off the charts
 * (plotly's toolbar shows while hovered).
 */
async function scrollToTop(section: Locator): Promise<void> {
  await section.evaluate(el => el.scrollIntoView({ block: 'start' }));
  await section.page().mouse.move(0, 0);
}

test.describe.configure({ mode: 'serial' });
test.use({ mockUser: false });

test('seed: an explained model version, an AutoML search and a federated training', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(300000);
  const output = await runSeedScript(
    page,
    tmpPath,
    'seed_insights',
    SEED,
    270000
  );
  const text = (await output.textContent()) ?? '';
  ids = JSON.parse(/IDS (\{[^}]*\})/.exec(text)![1]);
});

test('the Explanations section: method, top features table, three charts, a selector', async ({
  page
}, testInfo) => {
  const errors = collectMlopsConsoleErrors(page);
  await page.sidebar.close('left');
  await hideToasts(page);
  const tab = await openVersion(page, 1);
  const section = tab.locator('.mlops-ExplanationsSection');
  await expect(section.locator('.mlops-DetailSectionTitle')).toContainText(
    'Explanations'
  );
  await expect(
    section.locator('.mlops-DetailSectionTitle .mlops-Badge')
  ).toHaveText('2');

  // The latest explanation: how it was computed, on what.
  const facts = section.locator('.mlops-ExplanationFacts');
  await expect(facts).toContainText(/permutation importance \(\w+\) \+ \S+/);
  await expect(facts).toContainText('171');
  await expect(facts).toContainText('galata');

  // The top features as an HTML table, most important first.
  const table = section.getByRole('table', { name: /Top features/ });
  await expect(table).toBeVisible();
  const rows = table.locator('tbody tr');
  await expect(rows).toHaveCount(10);
  await expect(rows.first().locator('td').first()).toHaveText('1');
  const features = await rows.evaluateAll(trs =>
    trs.map(tr => tr.getAttribute('data-feature'))
  );
  expect(features.every(f => !!f && f.length > 0)).toBe(true);
  const means = await rows.evaluateAll(trs =>
    trs.map(tr => Number(tr.querySelectorAll('td')[2].getAttribute('title')))
  );
  expect([...means].sort((a, b) => b - a)).toEqual(means);

  // The three stored figures, drawn by plotly, each under its heading.
  for (const key of ['importance', 'partial_dependence', 'local']) {
    const card = section.locator(`.mlops-explanation-${key}`);
    await expect(card.locator('.js-plotly-plot')).toBeVisible({
      timeout: 30000
    });
    await expect(card.locator('.mlops-FigureCardTitle')).not.toBeEmpty();
  }
  // Plotly's own titles are dropped (the card's heading replaces them).
  await expect(section.locator('.js-plotly-plot .gtitle')).toHaveCount(0);
  await scrollToTop(section);
  await screenshotBothThemes(page, testInfo, 'insights-01-explanations');
  await scrollToTop(section.locator('.mlops-explanation-partial_dependence'));
  await screenshot(page, testInfo, 'insights-02-explanation-charts');
  await scrollToTop(section.locator('.mlops-explanation-local'));
  await screenshot(page, testInfo, 'insights-02b-explanation-local');

  // The earlier explanation (60 rows) through the selector.
  const picker = section.getByRole('combobox');
  await expect(picker.locator('option')).toHaveCount(2);
  await picker.selectOption({ index: 1 });
  await expect(facts).toContainText('60');
  await expect(
    section.locator('.mlops-explanation-importance .js-plotly-plot')
  ).toBeVisible();

  // A version without an explanation: the code that makes one.
  const v2 = await openVersion(page, 2);
  const empty = v2.locator('.mlops-ExplanationsSection');
  await expect(empty).toContainText(
    `mlops.explain("models:/${MODEL}/2", X, y)`
  );
  await scrollToTop(empty);
  await screenshot(page, testInfo, 'insights-06-explanations-empty');
  expect(errors).toEqual([]);
});

test('the AutoML run tab: its stored charts and its trials', async ({
  page
}, testInfo) => {
  expect(ids).not.toBeNull();
  await page.sidebar.close('left');
  await hideToasts(page);
  const tab = await openRun(page, ids!.automl);
  const charts = tab.locator('.mlops-RunChartsSection');
  await expect(charts.locator('.mlops-RunChart').first()).toBeVisible({
    timeout: 30000
  });
  const cards = charts.locator('.mlops-RunChart');
  const count = await cards.count();
  expect(count).toBeGreaterThanOrEqual(2);
  for (let i = 0; i < count; i++) {
    await expect(cards.nth(i).locator('.js-plotly-plot')).toBeVisible({
      timeout: 30000
    });
    await expect(cards.nth(i).locator('.mlops-FigureCardSource')).toHaveText(
      /^charts\/.+\.json$/
    );
  }
  await expect(
    charts.locator('.mlops-FigureCardSource', {
      hasText: 'charts/optimization_history.json'
    })
  ).toBeVisible();

  const children = tab.locator('.mlops-ChildRunsSection');
  await expect(children.locator('.mlops-DetailSectionTitle')).toContainText(
    'AutoML trials'
  );
  await expect(children.locator('.mlops-ChildRunRow').first()).toBeVisible();
  await expect(children.locator('.mlops-ChildRunsToolbar')).toContainText(
    /\d+ trials?:/
  );
  await expect(children.locator('.mlops-ChildRuns th')).toContainText([
    'Name',
    'trial',
    'state'
  ]);
  // The best trial is starred (the parent names it).
  await expect(
    children.locator('.mlops-ChildRunRow.mlops-mod-best')
  ).toHaveCount(1);
  await scrollToTop(charts);
  await screenshotBothThemes(page, testInfo, 'insights-03-automl-charts');
  await scrollToTop(children);
  await screenshot(page, testInfo, 'insights-04-automl-trials');
});

test('the federated run tab: the rounds chart and the rounds as child runs', async ({
  page
}, testInfo) => {
  expect(ids).not.toBeNull();
  await page.sidebar.close('left');
  await hideToasts(page);
  const tab = await openRun(page, ids!.federated);
  const charts = tab.locator('.mlops-RunChartsSection');
  await expect(
    charts.locator('.mlops-RunChart .js-plotly-plot').first()
  ).toBeVisible({ timeout: 30000 });
  const children = tab.locator('.mlops-ChildRunsSection');
  await expect(children.locator('.mlops-DetailSectionTitle')).toContainText(
    'Federated rounds'
  );
  await expect(children.locator('.mlops-ChildRunRow')).toHaveCount(3);
  await scrollToTop(charts);
  await screenshot(page, testInfo, 'insights-05-federated');
});
