import { expect, test } from '@jupyterlab/galata';

import {
  collectMlopsConsoleErrors,
  openPanel,
  PANEL,
  runNotebookWithPanel,
  screenshot
} from './helpers';

/**
 * End-to-end tests of the MLOps side panel against a real JupyterLab and the real
 * mlops_jlab server extension (fresh store, see jupyter_server_test_config.py).
 */

const NOTEBOOK = 'quickstart.ipynb';

test.describe.configure({ mode: 'serial' });

test('the panel shows the empty state with a fresh store', async ({
  page
}, testInfo) => {
  await openPanel(page);
  const panel = page.locator(PANEL);
  // Handshake succeeded: no "not running" or mismatch banner.
  await expect(panel.locator('.mlops-EmptyExperiments')).toBeVisible();
  await expect(panel.locator('.mlops-EmptyExperiments')).toContainText(
    'No experiments yet'
  );
  await expect(panel.locator('.mlops-Snippet').first()).toContainText(
    '%load_ext mlops_jlab'
  );
  await expect(panel.locator('.mlops-Banner')).toHaveCount(0);
  await screenshot(page, testInfo, '01-empty-panel');
});

test('a notebook training run appears in the panel and opens its detail tab', async ({
  page
}, testInfo) => {
  test.setTimeout(240000);
  const consoleErrors = collectMlopsConsoleErrors(page);
  await runNotebookWithPanel(page, NOTEBOOK);

  // The panel polls: the experiment and its runs show up without any click.
  const panel = page.locator(PANEL);
  await expect(
    panel.locator('.mlops-ExperimentItem', { hasText: 'quickstart' })
  ).toBeVisible({
    timeout: 30000
  });
  const rows = panel.locator('.mlops-RunRow');
  await expect(rows.first()).toBeVisible({ timeout: 30000 });
  await expect(rows.first().locator('.mlops-StatusDot')).toHaveClass(
    /mlops-status-finished/
  );
  await expect(panel.locator('th.mlops-col-metric').first()).toBeVisible();
  await screenshot(page, testInfo, '02-panel-with-runs');

  // Sorting by a metric is done by the server: the header shows the sort.
  const metricHeader = panel.locator('th.mlops-col-metric').first();
  await metricHeader.click();
  await expect(metricHeader).toHaveClass(/mlops-mod-sorted/);
  await expect(rows.first()).toBeVisible();

  // A bad filter shows the server's message inline.
  const filter = panel.locator('.mlops-FilterInput');
  await filter.fill('metrics > 1');
  await filter.press('Enter');
  await expect(panel.locator('.mlops-FilterError')).toBeVisible();
  await screenshot(page, testInfo, '03-bad-filter');
  await filter.press('Escape');
  await expect(panel.locator('.mlops-FilterError')).toHaveCount(0);
  await expect(rows.first()).toBeVisible();

  // Open the run detail tab.
  await rows.first().click();
  const detail = page.locator('.jp-MainAreaWidget.mlops-RunDetailTab:visible');
  await expect(detail.locator('.mlops-RunTitle')).toBeVisible();
  await expect(detail.locator('.mlops-StatusPill')).toHaveText('finished');
  await expect(detail.locator('.mlops-KVTable').first()).toBeVisible();
  await expect(detail.locator('.js-plotly-plot').first()).toBeVisible({
    timeout: 30000
  });
  await expect(detail.locator('.mlops-OpenNotebook')).toBeEnabled();
  await screenshot(page, testInfo, '04-run-detail');

  // Clicking the same run again reuses the tab.
  await rows.first().click();
  await expect(
    page.locator('.jp-MainAreaWidget.mlops-RunDetailTab')
  ).toHaveCount(1);
  await expect(rows.first()).toHaveClass(/mlops-mod-current/);

  // A run that logged a metric over steps gets a line chart per metric.
  const count = await rows.count();
  for (let i = 1; i < Math.min(count, 5); i++) {
    await rows.nth(i).click();
    const current = page.locator(
      '.jp-MainAreaWidget.mlops-RunDetailTab:visible'
    );
    await expect(current.locator('.js-plotly-plot').first()).toBeVisible({
      timeout: 30000
    });
    if (await current.locator('.mlops-Charts .js-plotly-plot').count()) {
      await current
        .locator('.mlops-DetailSectionTitle', { hasText: 'Metric history' })
        .scrollIntoViewIfNeeded();
      await screenshot(page, testInfo, '05-run-detail-history');
      break;
    }
  }

  // "Open notebook" brings the run's notebook back.
  await page
    .locator(
      '.jp-MainAreaWidget.mlops-RunDetailTab:visible .mlops-OpenNotebook'
    )
    .click();
  await expect(
    page.getByRole('main').getByRole('tab', { name: /^quickstart\.ipynb/ })
  ).toHaveAttribute('aria-selected', 'true');

  // The frontend logged no error of its own.
  expect(consoleErrors).toEqual([]);

  // The palette commands exist.
  await page.keyboard.press('Control+Shift+C');
  await page.getByPlaceholder('SEARCH', { exact: true }).fill('MLOps');
  await expect(
    page.locator('.lm-CommandPalette-item', { hasText: 'MLOps: Refresh' })
  ).toBeVisible();
  await page.keyboard.press('Escape');
});

test('the panel explains when the server extension is missing', async ({
  page
}, testInfo) => {
  // Simulate a JupyterLab without the server extension: the version route answers 404.
  await page.route(/\/mlops\/api\/version/, route =>
    route.fulfill({
      status: 404,
      contentType: 'text/html',
      body: '<html>404 : Not Found</html>'
    })
  );
  await page.goto();
  await openPanel(page);
  const banner = page.locator(`${PANEL} .mlops-Banner-error`);
  await expect(banner).toContainText('server extension is not running');
  await expect(banner).toContainText('pip install mlops_jlab');
  await screenshot(page, testInfo, '06-server-missing');
});

test('the panel warns about a version mismatch', async ({ page }, testInfo) => {
  await page.route(/\/mlops\/api\/version/, route =>
    route.fulfill({
      status: 200,
      contentType: 'application/json',
      body: '{"version": "9.9.9", "api": 1}'
    })
  );
  await page.goto();
  await openPanel(page);
  const banner = page.locator(`${PANEL} .mlops-Banner-warn`);
  await expect(banner).toContainText('9.9.9');
  await expect(banner).toContainText('0.1.0');
});
