import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  collectMlopsConsoleErrors,
  openPanel,
  PANEL,
  runSeedCell,
  screenshot,
  screenshotBothThemes
} from './helpers';

/**
 * End-to-end test of the Monitoring section of a deployment tab and the panel's
 * drift badge, against the real server: a notebook trains on iris (plus a discrete
 * "batch" column) with its training dataset logged, deploys v1 with v2 as a shadow,
 * sends calm traffic, records a calm drift report, then sends shifted traffic and
 * ground-truth labels. A second model without a training dataset shows the 422.
 * Runs after deployments.spec.ts (one server, one store).
 */

const DEPLOYMENT = 'iris-mon';
const BARE = 'iris-bare';
const TAB = '.jp-MainAreaWidget.mlops-DeploymentTab:visible';

// One statement per line, no indented block: the editor auto-indents what Galata types.
const SEED_CODE = `import time
import numpy as np
import mlops_jlab as mlops
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True, as_frame=True)
X["batch"] = np.arange(len(X)) % 3
with mlops.start_run(name="mon") as run: run.log_dataset(X, "iris-mon-train", role="train"); run.log_model(LogisticRegression(max_iter=1000).fit(X, y), input_example=X.head(3))
with mlops.start_run(name="mon-c005") as run2: run2.log_dataset(X, "iris-mon-train", role="train"); run2.log_model(LogisticRegression(C=0.05, max_iter=1000).fit(X, y), input_example=X.head(3))
mlops.register_model(run, "${DEPLOYMENT}")
mlops.register_model(run2, "${DEPLOYMENT}")
dep = mlops.deploy("${DEPLOYMENT}", version=1, name="${DEPLOYMENT}", shadow=2, wait=True)
def logged(): return len(mlops.backend().serving.predictions("${DEPLOYMENT}", 1000))
calm = [dep.predict(X.iloc[i:i + 50]) for i in (0, 50, 100)]
while logged() < 6: time.sleep(0.1)
print("calm report drift:", mlops.drift_report("${DEPLOYMENT}", window="1h").summary["dataset_drift"])
idx = X.sample(150, replace=True, random_state=1).index
S = X.loc[idx].reset_index(drop=True)
S["petal length (cm)"] = S["petal length (cm)"] + 2.5
S["sepal width (cm)"] = S["sepal width (cm)"] * 1.4
S["batch"] = np.where(np.arange(150) % 4 == 0, 3, 2)
shifted = [dep.predict(S.iloc[i:i + 50]) for i in (0, 50, 100)]
while logged() < 12: time.sleep(0.1)
labels = [list(y.iloc[i:i + 50]) for i in (0, 50, 100)] + [list(y.loc[idx].iloc[i:i + 50]) for i in (0, 50, 100)]
print("feedback", mlops.log_feedback(dep, [a["request_id"] for a in calm + shifted], labels))
with mlops.start_run(name="bare") as run3: run3.log_model(LogisticRegression(max_iter=1000).fit(X, y), input_example=X.head(3))
mlops.register_model(run3, "${BARE}")
mlops.deploy("${BARE}", version=1, name="${BARE}", wait=False).stop()
print("seeded", dep.name)`;

/** Scroll a section title of the visible tab to the top, for a screenshot. */
async function scrollToTitle(tab: Locator, title: string): Promise<void> {
  await tab
    .locator('.mlops-DetailSectionTitle', { hasText: title })
    .evaluate(el => el.scrollIntoView({ block: 'start' }));
}

/** Scroll an element of the visible tab to the top, for a screenshot. */
async function scrollTo(locator: Locator): Promise<void> {
  await locator.evaluate(el => el.scrollIntoView({ block: 'start' }));
}

test.describe.configure({ mode: 'serial' });

test('the Monitoring section checks drift, draws the heatmap, distributions and performance; the panel shows a drift badge', async ({
  page
}, testInfo) => {
  test.setTimeout(400000);
  const consoleErrors = collectMlopsConsoleErrors(page);

  // Seed: train with the training dataset logged, deploy, send traffic and labels.
  const output = await runSeedCell(
    page,
    'monitor.ipynb',
    SEED_CODE,
    `seeded ${DEPLOYMENT}`
  );
  await expect(output).toContainText('calm report drift: False');
  await expect(output).toContainText("'matched': 6");

  // The panel: the newest recorded report is calm, so no drift badge yet.
  await openPanel(page);
  await page.sidebar.setWidth(560, 'left');
  const section = page.locator(`${PANEL} .mlops-DeploymentsSection`);
  const row = section.locator(
    `.mlops-DeploymentRow[data-deployment="${DEPLOYMENT}"]`
  );
  await expect(row).toBeVisible({ timeout: 30000 });
  await expect(row.locator('.mlops-StatusLight')).toHaveAttribute(
    'data-light',
    'green',
    { timeout: 60000 }
  );
  await expect(row.locator('.mlops-DriftBadge')).toHaveCount(0);

  // The deployment tab previews drift over the last hour (not recorded).
  await row.click();
  const tab = page.locator(TAB);
  await expect(tab.locator('.mlops-DeploymentTitle')).toHaveText(DEPLOYMENT);
  const monitoring = tab.locator('.mlops-MonitoringSection');
  const summary = monitoring.locator('.mlops-DriftSummary');
  await expect(summary).toHaveAttribute('data-verdict', 'drift', {
    timeout: 60000
  });
  await expect(summary.locator('.mlops-DriftVerdict')).toHaveText(
    /Dataset drift detected/
  );
  await expect(summary.locator('.mlops-DriftShare')).toHaveText('3 of 5 (60%)');
  await expect(summary.locator('.mlops-DriftRows')).toHaveText(
    '300 current · 150 reference'
  );
  await expect(summary.locator('.mlops-DriftReference')).toHaveText(
    `${DEPLOYMENT} v1`
  );
  await expect(summary.locator('.mlops-DriftComputed')).toContainText(
    'preview, not recorded'
  );

  // The heatmap holds the calm report recorded from the notebook.
  const heatmap = monitoring.locator('.mlops-Heatmap');
  await expect(heatmap.locator('.mlops-HeatShare')).toHaveCount(1);
  await expect(heatmap.locator('.mlops-HeatShare')).toHaveAttribute(
    'data-dataset-drift',
    'false'
  );
  await expect(heatmap.locator('.mlops-HeatRow')).toHaveCount(5);

  // Choose 15 minutes and record a report: it joins the heatmap (newest right).
  await monitoring.getByRole('radio', { name: '15m' }).click();
  await expect(monitoring.getByRole('radio', { name: '15m' })).toHaveAttribute(
    'aria-checked',
    'true'
  );
  await expect(summary.locator('.mlops-DriftComputed')).toContainText(
    'last 15 min'
  );
  await monitoring.locator('.mlops-CheckDrift').click();
  await expect(summary.locator('.mlops-DriftRecorded')).toHaveText(
    'recorded in the history'
  );
  await expect(heatmap.locator('.mlops-HeatShare')).toHaveCount(2);
  await expect(heatmap.locator('.mlops-HeatShare').last()).toHaveAttribute(
    'data-dataset-drift',
    'true'
  );
  // Rows by severity in the newest report: the three shifted columns first.
  const heatRows = heatmap.locator('.mlops-HeatRow');
  const firstThree = await heatRows.evaluateAll(rows =>
    rows.slice(0, 3).map(r => r.getAttribute('data-column'))
  );
  expect([...firstThree].sort()).toEqual([
    'batch',
    'petal length (cm)',
    'sepal width (cm)'
  ]);
  // Hover tooltips: the test, statistic and threshold of a cell.
  const cell = heatmap
    .locator('.mlops-HeatRow[data-column="petal length (cm)"] .mlops-HeatCell')
    .last();
  await expect(cell).toHaveAttribute('data-level', /^[234]$/);
  const tooltip = await cell.locator('title').textContent();
  expect(tooltip).toContain('Kolmogorov-Smirnov');
  expect(tooltip).toContain('drift when p < 0.05');
  expect(tooltip).toContain('\ndrifted\n');
  await expect(
    heatmap
      .locator(
        '.mlops-HeatRow[data-column="petal length (cm)"] .mlops-HeatCell'
      )
      .first()
  ).toHaveAttribute('data-level', /^[01]$/);

  // The panel's row gets a drift badge from the recorded report.
  const badge = row.locator('.mlops-DriftBadge');
  await expect(badge).toBeVisible();
  await expect(badge).toHaveAttribute('title', /3 of 5 tested columns drifted/);

  // The columns, most severe first; the unshifted ones are not drifted.
  const table = monitoring.locator('.mlops-DriftTable');
  await expect(table.locator('tbody tr')).toHaveCount(5);
  await expect(table.locator('tbody tr.mlops-mod-drifted')).toHaveCount(3);
  await expect(
    table.locator('tbody tr').nth(3).locator('.mlops-DriftFlag')
  ).toHaveText('ok');
  await expect(
    table.locator('tr[data-column="batch"] .mlops-DriftNotes')
  ).toContainText("new values in current: '3'");
  await expect(
    table.locator('tr[data-column="batch"] .mlops-DriftFlag')
  ).toHaveText('drifted');

  await scrollToTitle(tab, 'Monitoring');
  await screenshotBothThemes(page, testInfo, '30-monitoring-drift');

  // A column's distributions: the most severe one by default, then a click.
  const detail = monitoring.locator('.mlops-ColumnDetail');
  await expect(detail).toHaveAttribute('data-column', firstThree[0]!);
  await table.locator('tr[data-column="batch"]').click();
  await expect(detail).toHaveAttribute('data-column', 'batch');
  await expect(
    detail.locator('.mlops-Distribution.mlops-mod-categories')
  ).toBeVisible();
  await expect(
    detail.locator('.mlops-CategoryLabel', { hasText: /^3$/ })
  ).toHaveCount(1);
  await expect(detail.locator('.mlops-NewCategory')).toHaveText(['3']);
  await expect(detail.locator('.mlops-ChartLegend')).toContainText(
    'reference: training data (v1)'
  );
  await expect(detail.locator('.mlops-ChartLegend')).toContainText(
    'current: last 15 min'
  );
  await expect(table.locator('tr[data-column="batch"]')).toHaveClass(
    /mlops-mod-current/
  );
  await scrollTo(monitoring.locator('.mlops-SubTitle', { hasText: 'Columns' }));
  await screenshotBothThemes(page, testInfo, '31-monitoring-categories');

  // Clicking a heatmap row selects that column: a numeric histogram.
  await heatmap
    .locator(
      '.mlops-HeatRow[data-column="petal length (cm)"] .mlops-HeatRowLabel'
    )
    .click();
  await expect(detail).toHaveAttribute('data-column', 'petal length (cm)');
  const histogram = detail.locator('.mlops-Distribution.mlops-mod-histogram');
  await expect(histogram).toBeVisible();
  await expect(
    histogram.locator('.mlops-Bar.mlops-mod-reference')
  ).not.toHaveCount(0);
  await expect(histogram.locator('.mlops-CurrentLine')).toHaveCount(1);
  const bin = await histogram
    .locator('.mlops-HoverBand title')
    .first()
    .textContent();
  expect(bin).toMatch(/reference \d+(\.\d)?%\ncurrent \d+(\.\d)?%/);
  await expect(
    heatmap.locator('.mlops-HeatRow[data-column="petal length (cm)"]')
  ).toHaveClass(/mlops-mod-selected/);
  await scrollTo(detail);
  await screenshotBothThemes(page, testInfo, '32-monitoring-histogram');

  // Performance from the labels: v1 and its shadow v2 on the same requests.
  const performance = monitoring.locator('.mlops-PerformanceView');
  await expect(performance.locator('.mlops-Performance')).toBeVisible({
    timeout: 30000
  });
  await expect(
    performance.locator('.mlops-ChartLegend .mlops-LegendLabel')
  ).toHaveText(['v1', 'v2 (shadow)'], { timeout: 30000 });
  await expect(
    performance.locator('.mlops-ChartLegend .mlops-LegendValue').first()
  ).toHaveText(/^(1|0\.\d+)$/);
  await expect(
    performance.getByRole('radio', { name: 'accuracy' })
  ).toHaveAttribute('aria-checked', 'true');
  const point = await performance
    .locator('.mlops-Series[data-series="v1"] .mlops-SeriesPoint title')
    .first()
    .textContent();
  expect(point).toMatch(/accuracy (1|0(\.\d+)?) \(\d+ labelled rows\)/);
  await performance.getByRole('radio', { name: 'F1 (macro)' }).click();
  await expect(performance.locator('.mlops-Performance')).toHaveAttribute(
    'aria-label',
    'F1 (macro) per version over time'
  );
  await scrollTo(
    monitoring.locator('.mlops-SubTitle', { hasText: 'Performance' })
  );
  await screenshotBothThemes(page, testInfo, '33-monitoring-performance');

  // A model without a training dataset: the server's 422, readable, and the
  // empty performance state says how to send labels.
  const bare = section.locator(
    `.mlops-DeploymentRow[data-deployment="${BARE}"]`
  );
  await expect(bare).toBeVisible({ timeout: 30000 });
  await bare.click();
  await expect(tab.locator('.mlops-DeploymentTitle')).toHaveText(BARE);
  const bareMonitoring = tab.locator('.mlops-MonitoringSection');
  const refusal = bareMonitoring.locator('.mlops-DriftError');
  await expect(refusal).toContainText('has no training dataset');
  await expect(refusal).toContainText('log_dataset');
  await expect(refusal).not.toContainText('{');
  await expect(bareMonitoring.locator('.mlops-PerformanceEmpty')).toContainText(
    `mlops.log_feedback("${BARE}"`
  );
  await expect(bareMonitoring.locator('.mlops-Heatmap')).toHaveCount(0);
  await scrollToTitle(tab, 'Monitoring');
  await screenshotBothThemes(page, testInfo, '34-monitoring-no-reference');

  expect(consoleErrors).toEqual([]);
});
