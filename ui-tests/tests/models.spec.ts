import { expect, test } from '@jupyterlab/galata';

import {
  collectMlopsConsoleErrors,
  openPanel,
  PANEL,
  runNotebookWithPanel,
  screenshot
} from './helpers';

/**
 * End-to-end tests of the model registry views (Models section of the side panel,
 * model version tab, lineage graph) against the real server extension. The store is
 * shared with mlops.spec.ts (one server, one worker): these tests run after it.
 */

const NOTEBOOK = 'registry.ipynb';
/** The model examples/registry.ipynb registers. */
const MODEL = 'cancer-classifier';
const VERSION_TAB = '.jp-MainAreaWidget.mlops-ModelVersionTab:visible';

test.describe.configure({ mode: 'serial' });

test('the registry notebook registers versions shown in the Models section', async ({
  page
}, testInfo) => {
  test.setTimeout(300000);
  const consoleErrors = collectMlopsConsoleErrors(page);
  await runNotebookWithPanel(page, NOTEBOOK);

  // The panel polls: the model shows up with its aliases, without any click.
  const panel = page.locator(PANEL);
  const models = panel.locator('.mlops-ModelsSection');
  const item = models.locator(`.mlops-ModelItem[data-model="${MODEL}"]`);
  await expect(item).toBeVisible({ timeout: 30000 });
  await expect(
    item.locator('.mlops-ModelRow .mlops-AliasChip').first()
  ).toBeVisible({
    timeout: 30000
  });
  await expect(
    item.locator('.mlops-ModelRow .mlops-AliasChip').first()
  ).toContainText('→ v');

  // Expand the model: versions newest first, with status, badges and alias chips.
  await item.locator('.mlops-ModelRow').click();
  const versions = item.locator('.mlops-VersionRow');
  await expect(versions.first()).toBeVisible();
  const numbers = await versions.evaluateAll(rows =>
    rows.map(r => Number(r.getAttribute('data-version')))
  );
  expect(numbers.length).toBeGreaterThan(0);
  expect([...numbers].sort((a, b) => b - a)).toEqual(numbers);
  await expect(versions.first().locator('.mlops-VersionStatus')).toHaveText(
    'ready'
  );
  await expect(
    item.locator('.mlops-VersionRow .mlops-ValidationBadge').first()
  ).toBeVisible();
  await expect(
    item.locator(
      '.mlops-VersionRow .mlops-ValidationBadge.mlops-validation-passed'
    )
  ).not.toHaveCount(0);
  await expect(
    item.locator('.mlops-VersionRow .mlops-AliasChip').first()
  ).toBeVisible();

  // A poll keeps the model expanded (no flicker, no lost state).
  await page.waitForTimeout(6000);
  await expect(versions.first()).toBeVisible();
  await models.scrollIntoViewIfNeeded();
  await screenshot(page, testInfo, '10-models-panel');

  // Open the version with the production alias (or the newest one).
  const production = item.locator('.mlops-VersionRow', {
    has: page.locator('.mlops-AliasChip[data-alias="production"]')
  });
  const target = (await production.count())
    ? production.first()
    : versions.first();
  const targetVersion = await target.getAttribute('data-version');
  await target.click();
  const tab = page.locator(VERSION_TAB);
  await expect(tab.locator('.mlops-VersionTitle')).toContainText(
    `${MODEL} v${targetVersion}`
  );
  await expect(tab.locator('.mlops-VersionStatus').first()).toHaveText('ready');
  await expect(tab.locator('.mlops-SignatureTable')).toBeVisible();
  await expect(tab.locator('.mlops-FilesTable')).toContainText('model');
  await expect(tab.locator('.mlops-ReportTable').first()).toBeVisible();
  await expect(
    tab.locator('.mlops-ReportTable .mlops-RuleResult').first()
  ).toBeVisible();
  await expect(item.locator('.mlops-VersionRow.mlops-mod-current')).toHaveCount(
    1
  );
  await screenshot(page, testInfo, '11-model-version');

  // Clicking the same version again reuses its tab.
  await target.click();
  await expect(
    page.locator('.jp-MainAreaWidget.mlops-ModelVersionTab')
  ).toHaveCount(1);

  // The lineage graph: model version → run → datasets.
  const graph = tab.locator('.mlops-LineageGraph');
  await graph.scrollIntoViewIfNeeded();
  await expect(graph).toBeVisible();
  await expect(
    graph.locator('.mlops-LineageNode[data-kind="model_version"]')
  ).toHaveCount(1);
  const runNode = graph.locator('.mlops-LineageNode[data-kind="run"]').first();
  await expect(runNode).toBeVisible();
  const datasetNode = graph
    .locator('.mlops-LineageNode[data-kind="dataset"]')
    .first();
  await expect(datasetNode).toBeVisible();
  await expect(graph.locator('.mlops-LineageEdge')).not.toHaveCount(0);
  // A dataset node shows its details beside the graph.
  await datasetNode.click();
  const details = tab.locator('.mlops-LineageDetails');
  await expect(details).toContainText('fingerprint');
  await expect(details).toContainText('rows');
  await tab
    .locator('.mlops-DetailSectionTitle', { hasText: 'Lineage' })
    .evaluate(el => el.scrollIntoView({ block: 'start' }));
  await screenshot(page, testInfo, '12-lineage');

  // The run node opens the run tab.
  await runNode.click();
  const runTab = page.locator('.jp-MainAreaWidget.mlops-RunDetailTab:visible');
  await expect(runTab.locator('.mlops-RunTitle')).toBeVisible();
  await expect(runTab.locator('.mlops-StatusPill')).toHaveText('finished');

  expect(consoleErrors).toEqual([]);
});

test('aliases and the archived flag can be changed from the version tab', async ({
  page
}, testInfo) => {
  test.setTimeout(120000);
  await openPanel(page);
  await page.sidebar.setWidth(560, 'left');
  const item = page.locator(`${PANEL} .mlops-ModelItem[data-model="${MODEL}"]`);
  await expect(item).toBeVisible({ timeout: 30000 });
  if (!(await item.locator('.mlops-VersionRow').count())) {
    await item.locator('.mlops-ModelRow').click();
  }
  const versions = item.locator('.mlops-VersionRow');
  await expect(versions.first()).toBeVisible();

  // production is refused for a version without a passing validation: inline 422.
  const unvalidated = item.locator('.mlops-VersionRow', {
    hasNot: page.locator('.mlops-validation-passed')
  });
  if (await unvalidated.count()) {
    await unvalidated.first().click();
    const tab = page.locator(VERSION_TAB);
    await tab.locator('.mlops-AliasInput').fill('production');
    await tab.locator('.mlops-AliasSet').click();
    await expect(tab.locator('.mlops-AliasError')).toContainText(
      /production|validation/
    );
    await screenshot(page, testInfo, '13-production-refused');
  }

  // Set a new alias on the newest version, see it in the tab and the panel, remove it.
  await versions.first().click();
  const tab = page.locator(VERSION_TAB);
  await expect(tab.locator('.mlops-VersionTitle')).toBeVisible();
  await tab.locator('.mlops-AliasInput').fill('canary');
  await tab.locator('.mlops-AliasSet').click();
  const chip = tab.locator('.mlops-AliasEditor [data-alias="canary"]');
  await expect(chip).toBeVisible();
  await expect(tab.locator('.mlops-AliasError')).toHaveCount(0);
  await expect(
    item.locator('.mlops-ModelRow [data-alias="canary"]')
  ).toBeVisible();
  await chip.locator('.mlops-AliasRemove').click();
  await expect(chip).toHaveCount(0);
  await expect(
    item.locator('.mlops-ModelRow [data-alias="canary"]')
  ).toHaveCount(0);
  await expect(
    item.locator('.mlops-VersionRow [data-alias="canary"]')
  ).toHaveCount(0);

  // Archive hides a version without aliases from the panel; Unarchive brings it back.
  const free = item.locator('.mlops-VersionRow', {
    hasNot: page.locator('.mlops-AliasChip')
  });
  if (await free.count()) {
    const number = await free.first().getAttribute('data-version');
    await free.first().click();
    await expect(tab.locator('.mlops-VersionTitle')).toContainText(
      `v${number}`
    );
    await tab.locator('.mlops-ArchiveButton').click();
    await expect(tab.locator('.mlops-ArchivedFlag')).toBeVisible();
    await expect(tab.locator('.mlops-ArchiveButton')).toHaveText('Unarchive');
    await expect(
      item.locator(`.mlops-VersionRow[data-version="${number}"]`)
    ).toHaveCount(0);
    await tab.locator('.mlops-ArchiveButton').click();
    await expect(tab.locator('.mlops-ArchivedFlag')).toHaveCount(0);
    await expect(
      item.locator(`.mlops-VersionRow[data-version="${number}"]`)
    ).toBeVisible();
  } else {
    // Every version holds an alias: the server refuses, and says why.
    await tab.locator('.mlops-ArchiveButton').click();
    await expect(tab.locator('.mlops-AliasError')).toContainText('alias');
  }
});

test('the version tab and lineage graph follow the dark theme', async ({
  page
}, testInfo) => {
  await openPanel(page);
  const item = page.locator(`${PANEL} .mlops-ModelItem[data-model="${MODEL}"]`);
  await expect(item).toBeVisible({ timeout: 30000 });
  if (!(await item.locator('.mlops-VersionRow').count())) {
    await item.locator('.mlops-ModelRow').click();
  }
  await item.locator('.mlops-VersionRow').first().click();
  const tab = page.locator(VERSION_TAB);
  await expect(tab.locator('.mlops-LineageGraph')).toBeVisible();
  await page.theme.setDarkTheme();
  await tab
    .locator('.mlops-DetailSectionTitle', { hasText: 'Validation' })
    .evaluate(el => el.scrollIntoView({ block: 'start' }));
  await screenshot(page, testInfo, '14-dark-theme');
  await page.theme.setLightTheme();
});
