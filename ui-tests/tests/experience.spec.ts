import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { ConsoleMessage, Page } from '@playwright/test';

import {
  onlySections,
  openPanel,
  PANEL,
  runSeedScript,
  screenshot,
  screenshotBothThemes,
  SECTIONS
} from './helpers';

/**
 * The whole panel with a store the size real teams have: an experiment of 10,000
 * runs (virtualized table, server-side filter with completion, sort, column chooser,
 * ticking runs into the compare view), models with versions, two deployments with
 * traffic (one a canary) and a firing drift alert; the palette and context-menu
 * commands; detail tabs restored on reload; every section in both themes; and no
 * console error from the whole session. Runs last (one server, one store).
 */

const EXPERIMENT = 'sweep-10k';
const RUNS = 10000;
const MODEL = 'exp-iris';
const DEPLOYMENT = 'exp-iris-canary';
const RUN_ROWS = `${PANEL} .mlops-RunsTable tr.mlops-RunRow[data-run-id]`;

const SEED = `import random
import time
import mlops_jlab as mlops
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

rng = random.Random(7)
started = time.time()
mlops.set_experiment("${EXPERIMENT}")
for i in range(${RUNS}):
    lr = rng.choice([0.001, 0.01, 0.03, 0.1, 0.3])
    depth = rng.randint(2, 12)
    model = rng.choice(["forest", "boosting", "linear"])
    acc = 0.72 + 0.2 * (1 - abs(lr - 0.03) * 3) * (depth / 12) + 0.04 * rng.random()
    with mlops.start_run(name=f"trial-{i:05d}",
                         params={"lr": lr, "depth": depth, "model": model}) as run:
        if i >= ${RUNS} - 6:
            # The newest runs log a learning curve (the compare view overlays them).
            for step in range(20):
                run.log_metric("val_loss", round(1.2 * (0.8 + 0.02 * (i % 5)) ** step + 0.05, 4), step=step)
        run.log_metrics({"accuracy": round(min(acc, 0.999), 4), "loss": round(1 - acc, 4)})
print("runs/s", round(${RUNS} / (time.time() - started)))

X, y = load_iris(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
for i, estimator in enumerate([LogisticRegression(max_iter=500), DecisionTreeClassifier(max_depth=3)]):
    with mlops.start_run(experiment="iris-serving", name=f"iris-{i}") as run:
        estimator.fit(X_train, y_train)
        run.log_dataset(X_train, "iris-train", role="train")
        run.log_metric("accuracy", estimator.score(X_test, y_test))
        run.log_model(estimator, input_example=X_train.head(3))
    mlops.register_model(run, "${MODEL}")
dep = mlops.deploy("${MODEL}", version=1, name="${DEPLOYMENT}", canary=(2, 20), wait=True)
staging = mlops.deploy("${MODEL}", version=2, name="${MODEL}-staging", wait=True)
sent = 0
for i in range(0, len(X_test), 5):
    dep.predict(X_test.iloc[i:i + 5])
    staging.predict(X_test.iloc[i:i + 5])
    sent += 1
# Sepals measured in inches by a new lab: every feature drifts.
shifted = X_test.copy() * 2.54
for i in range(0, len(shifted), 5):
    dep.predict(shifted.iloc[i:i + 5])
    sent += 1
# The workers log each request (one row per request) a moment after answering it.
while len(mlops.backend().serving.predictions("${DEPLOYMENT}", 10_000)) < sent:
    time.sleep(0.1)
mlops.set_alert_rules("${DEPLOYMENT}", [{"kind": "drift_share", "threshold": 0.25}])
fired = mlops.evaluate_alerts("${DEPLOYMENT}", wait=True)
print("fired", sorted(a["kind"] for a in fired))
print("models", len(mlops.list_models()), "seeded")
`;

/** Every console error of the page (JupyterLab's and ours) while the test runs. */
function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'error') {
      errors.push(msg.text());
    }
  });
  page.on('pageerror', error => errors.push(`pageerror: ${error.message}`));
  return errors;
}

/** Show the panel wide enough for a few metric and param columns. */
async function showPanel(page: IJupyterLabPageFixture): Promise<void> {
  await openPanel(page);
  await page.sidebar.setWidth(620, 'left');
}

/** Select the 10,000-run experiment; returns how long until its rows painted. */
async function selectSweep(page: IJupyterLabPageFixture): Promise<number> {
  const item = page.locator(`${PANEL} .mlops-ExperimentItem`, {
    hasText: EXPERIMENT
  });
  await expect(item).toBeVisible({ timeout: 30000 });
  if ((await item.getAttribute('aria-selected')) === 'true') {
    return 0;
  }
  const started = Date.now();
  await item.click();
  await expect(page.locator(RUN_ROWS).first()).toContainText('trial-', {
    timeout: 30000
  });
  return Date.now() - started;
}

test.describe.configure({ mode: 'serial' });
test.use({ mockUser: false });

test('seeded store: 10,000 runs, models, two deployments with traffic and a drift alert', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(600000);
  const output = await runSeedScript(
    page,
    tmpPath,
    'seed_experience',
    SEED,
    540000
  );
  await expect(output).toContainText("fired ['drift_share']");
});

test('the runs table: 10,000 runs virtualized, filter with completion, sort, columns, compare', async ({
  page
}, testInfo) => {
  test.setTimeout(240000);
  const errors = collectConsoleErrors(page);
  await showPanel(page);
  await onlySections(page, ['Experiments', 'Runs']);
  const elapsed = await selectSweep(page);
  testInfo.annotations.push({
    type: 'first page of 10,000 runs painted (ms)',
    description: String(elapsed)
  });
  console.log(`first page of ${RUNS} runs painted in ${elapsed} ms`);

  const panel = page.locator(PANEL);
  const count = panel.locator('.mlops-RunsCount');
  await expect(count).toContainText('10,000 runs');
  // Only the rows in view are in the DOM.
  const rendered = await page.locator(RUN_ROWS).count();
  expect(rendered).toBeGreaterThan(5);
  expect(rendered).toBeLessThan(120);
  await screenshotBothThemes(page, testInfo, 'experience-01-runs-10k');

  // Scrolling to the end loads the pages on the way and shows the oldest run.
  const scroller = panel.locator('.mlops-RunsSection .mlops-TableScroll');
  for (let i = 0; i < 40; i++) {
    await scroller.evaluate(el => el.scrollTo(0, el.scrollHeight));
    if (
      await panel
        .locator('tr.mlops-RunRow[data-run-id]', { hasText: 'trial-00000' })
        .count()
    ) {
      break;
    }
    await page.waitForTimeout(250);
  }
  await expect(
    panel.locator('tr.mlops-RunRow[data-run-id]', { hasText: 'trial-00000' })
  ).toBeVisible({ timeout: 90000 });
  expect(await page.locator(RUN_ROWS).count()).toBeLessThan(120);
  await scroller.evaluate(el => el.scrollTo(0, 0));

  // The filter completes metric names, then the server filters.
  const filter = panel.locator('.mlops-FilterInput');
  await filter.click();
  await filter.pressSequentially('metrics.acc');
  const completions = panel.locator('.mlops-FilterCompletion');
  await expect(completions.first()).toContainText('accuracy');
  await screenshot(page, testInfo, 'experience-02-filter-completion');
  // Escape closes the list and keeps the text; typing opens it again.
  await filter.press('Escape');
  await expect(completions).toHaveCount(0);
  await expect(filter).toHaveValue('metrics.acc');
  await filter.pressSequentially('u');
  await expect(completions.first()).toContainText('accuracy');
  await filter.press('Tab');
  await expect(filter).toHaveValue('metrics.accuracy');
  await filter.pressSequentially(" > 0.9 and params.model = 'linear'");
  await expect(filter).toHaveValue(
    "metrics.accuracy > 0.9 and params.model = 'linear'"
  );
  await filter.press('Enter');
  await expect(count).toContainText('(filtered)');
  const filtered = Number(
    ((await count.textContent()) ?? '').replace(/[^\d].*$/, '')
  );
  expect(filtered).toBeGreaterThan(0);
  expect(filtered).toBeLessThan(RUNS);

  // Sorting by accuracy (server side): the first row has the best one.
  const accuracyHeader = panel.locator('th.mlops-col-metric', {
    hasText: 'accuracy'
  });
  await accuracyHeader.click();
  await expect(accuracyHeader).toHaveAttribute('aria-sort', 'descending');
  const firstAccuracy = Number(
    await page
      .locator(RUN_ROWS)
      .first()
      .locator('td.mlops-col-metric span')
      .first()
      .getAttribute('title')
  );
  expect(firstAccuracy).toBeGreaterThan(0.9);

  // The column chooser adds a param column (and saves it as a setting).
  await panel.locator('.mlops-ColumnChooserButton').click();
  const menu = panel.locator('.mlops-ColumnMenu');
  await expect(menu).toBeVisible();
  await menu.locator('label', { hasText: /^lr$/ }).click();
  await menu.locator('label', { hasText: /^accuracy$/ }).click();
  await screenshot(page, testInfo, 'experience-03-column-chooser');
  await panel.locator('.mlops-ColumnChooserButton').click();
  await expect(panel.locator('th', { hasText: /^lr$/ })).toBeVisible();
  await expect(panel.locator('.mlops-ColumnChooserButton')).toHaveText(
    'Columns (2)'
  );

  // Tick three runs and compare them.
  await filter.fill('');
  await filter.press('Enter');
  await expect(count).not.toContainText('(filtered)');
  await accuracyHeader.click(); // ascending
  await accuracyHeader.click(); // server default: newest first
  await expect(page.locator(RUN_ROWS).first()).toContainText('trial-09999');
  for (let i = 0; i < 3; i++) {
    await page.locator(RUN_ROWS).nth(i).locator('input[type=checkbox]').check();
  }
  await expect(panel.locator('.mlops-CompareButton')).toHaveText('Compare 3');
  await panel.locator('.mlops-CompareButton').click();
  const compare = page.locator('.jp-MainAreaWidget.mlops-CompareTab:visible');
  await expect(
    compare.locator('.mlops-CompareParcoords .js-plotly-plot')
  ).toBeVisible({
    timeout: 30000
  });
  await expect(
    compare.locator('.mlops-CompareHistories .js-plotly-plot')
  ).toBeVisible({
    timeout: 30000
  });
  await expect(compare.locator('.mlops-CompareDiffRow').first()).toBeVisible();
  await expect(
    compare.locator('.mlops-CompareDiffRow[data-key="accuracy"]')
  ).toBeVisible();
  await screenshotBothThemes(page, testInfo, 'experience-04-compare');

  expect(errors).toEqual([]);
});

test('commands: palette, context menus, register from a run, drift report; tabs come back after a reload', async ({
  page
}, testInfo) => {
  test.setTimeout(240000);
  const errors = collectConsoleErrors(page);
  await showPanel(page);
  await onlySections(page, ['Experiments', 'Runs']);
  await selectSweep(page);

  // The palette has the commands.
  await page.keyboard.press('Control+Shift+C');
  await page.getByPlaceholder('SEARCH', { exact: true }).fill('MLOps');
  for (const label of [
    'MLOps: Open panel',
    'MLOps: Register model from run',
    'MLOps: Deploy model version',
    'MLOps: Show drift report',
    'MLOps: Compare runs'
  ]) {
    await expect(
      page.locator('.lm-CommandPalette-item', { hasText: label })
    ).toBeVisible();
  }
  await screenshot(page, testInfo, 'experience-05-palette');
  await page.keyboard.press('Escape');

  // Right-click a run: register its model (the sweep's runs logged none: the
  // server's refusal is shown as a readable message, not JSON).
  const row = page.locator(RUN_ROWS).first();
  await row.click({ button: 'right' });
  const menu = page.locator('.lm-Menu');
  await expect(menu.getByText('Register model…')).toBeVisible();
  await expect(menu.getByText('Open run')).toBeVisible();
  await screenshot(page, testInfo, 'experience-06-run-context-menu');
  await menu.getByText('Register model…').click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('input').fill('sweep-model');
  await dialog.getByRole('button', { name: 'Register' }).click();
  const error = page.locator('.jp-Dialog');
  await expect(error).toContainText('Cannot register run');
  await expect(error).not.toContainText('{"');
  await screenshot(page, testInfo, 'experience-07-readable-error');
  await error.getByRole('button', { name: /close|ok|dismiss/i }).click();

  // Show drift report from the palette opens the deployment at its monitoring.
  await page.evaluate(async name => {
    await (window as any).jupyterapp.commands.execute(
      'mlops:show-drift-report',
      { name }
    );
  }, DEPLOYMENT);
  const deployment = page.locator(
    '.jp-MainAreaWidget.mlops-DeploymentTab:visible'
  );
  await expect(deployment.locator('.mlops-MonitoringSection')).toBeVisible({
    timeout: 30000
  });

  // Open a run and a compare view; after a reload the tabs are back.
  await onlySections(page, ['Runs']);
  await page.locator(RUN_ROWS).first().click();
  await expect(
    page.locator('.jp-MainAreaWidget.mlops-RunDetailTab:visible')
  ).toBeVisible();
  await page.evaluate(async () => {
    const rows = Array.from(
      document.querySelectorAll('tr.mlops-RunRow[data-run-id]')
    ).slice(0, 2);
    await (window as any).jupyterapp.commands.execute('mlops:compare-runs', {
      runIds: rows.map(r => (r as HTMLElement).dataset.runId)
    });
  });
  await expect(
    page.locator('.jp-MainAreaWidget.mlops-CompareTab:visible')
  ).toBeVisible();
  // Galata opened JupyterLab with `?reset` (a clean workspace); come back without it,
  // as a user reopening the page does, after the layout was saved.
  await page.waitForTimeout(1500);
  await page.evaluate(() =>
    window.history.replaceState(null, '', window.location.pathname)
  );
  // (Galata's readiness check waits for the launcher, which restored tabs replace.)
  await page.reload({ waitForIsReady: false });
  await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
  for (const tab of [
    'mlops-RunDetailTab',
    'mlops-DeploymentTab',
    'mlops-CompareTab'
  ]) {
    await expect(page.locator(`.jp-MainAreaWidget.${tab}`)).toHaveCount(1, {
      timeout: 30000
    });
  }
  // The one error is the browser's own line for the refused registration (404).
  expect(errors).toEqual([
    'Failed to load resource: the server responded with a status of 404 (Not Found)'
  ]);
});

test('every section of the panel in light and dark', async ({
  page
}, testInfo) => {
  test.setTimeout(240000);
  const errors = collectConsoleErrors(page);
  await showPanel(page);
  await page.locator(`${PANEL} .mlops-DeploymentRow`).first().waitFor();
  for (const section of SECTIONS) {
    await onlySections(page, [section]);
    await page.waitForTimeout(300);
    await screenshotBothThemes(
      page,
      testInfo,
      `experience-section-${section.toLowerCase()}`
    );
  }
  // Two deployments with traffic, one a canary, and the drift alert.
  await onlySections(page, ['Deployments', 'Alerts']);
  await expect(
    page.locator(
      `${PANEL} .mlops-DeploymentRow[data-deployment="${DEPLOYMENT}"]`
    )
  ).toContainText('20%');
  await expect(page.locator(`${PANEL} .mlops-AlertsSection`)).toContainText(
    DEPLOYMENT
  );
  // The canary's tab: live requests (rate and latency sparklines) and traffic.
  await page
    .locator(`${PANEL} .mlops-DeploymentRow[data-deployment="${DEPLOYMENT}"]`)
    .click();
  const tab = page.locator('.jp-MainAreaWidget.mlops-DeploymentTab:visible');
  await expect(tab.locator('.mlops-RequestStats svg').first()).toBeVisible({
    timeout: 30000
  });
  await screenshotBothThemes(page, testInfo, 'experience-deployment-tab');
  expect(errors).toEqual([]);
});

test('notebook widgets: the training card registers its model; compare in a cell', async ({
  page
}, testInfo) => {
  test.setTimeout(240000);
  const errors = collectConsoleErrors(page);
  await page.notebook.createNew('widgets.ipynb');
  await page.notebook.setCell(
    0,
    'code',
    'import mlops_jlab as mlops\n' +
      'from sklearn.datasets import load_iris\n' +
      'from sklearn.linear_model import LogisticRegression\n' +
      'X, y = load_iris(return_X_y=True, as_frame=True)\n' +
      '%load_ext mlops_jlab'
  );
  // All cells first: running the last cell of a notebook appends an empty one.
  await page.notebook.addCell(
    'code',
    '%%mlops_train --experiment widgets\n' +
      'C = 0.5\n' +
      'model = LogisticRegression(C=C, max_iter=500).fit(X, y)'
  );
  await page.notebook.addCell(
    'code',
    'runs = mlops.search_runs("' +
      EXPERIMENT +
      '", order_by="attributes.start_time DESC", limit=4)\n' +
      'mlops.compare(runs)'
  );
  await page.notebook.runCell(0);
  await page.notebook.runCell(1);
  const card = page.locator('.mlops-run-card-widget');
  await expect(card).toBeVisible({ timeout: 60000 });
  await expect(card).toContainText('finished');
  await card.locator('input[type=text]').fill('widget-iris');
  await card.getByRole('button', { name: 'Register' }).click();
  await expect(card).toContainText('registered as', { timeout: 30000 });
  await expect(card).toContainText('widget-iris');
  await screenshot(page, testInfo, 'experience-08-train-card-widget');

  await page.notebook.runCell(2);
  const output = page.locator('.jp-NotebookPanel .jp-Cell').nth(2);
  await expect(output.locator('.js-plotly-plot').first()).toBeVisible({
    timeout: 60000
  });
  await expect(output.locator('.js-plotly-plot')).toHaveCount(2);
  await screenshot(page, testInfo, 'experience-09-compare-in-a-cell');
  await expect(
    page.locator(
      '.jp-NotebookPanel .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
    )
  ).toHaveCount(0);
  expect(errors).toEqual([]);
});
