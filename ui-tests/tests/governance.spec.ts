import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  collectMlopsConsoleErrors,
  onlySections,
  openPanel,
  PANEL,
  runSeedScript,
  screenshotBothThemes
} from './helpers';

/**
 * End-to-end tests of governance in JupyterLab against the real server: the Audit
 * section (events, chain verification, filter, before/after diff, export), a
 * four-eyes promotion (bob requests it from a kernel, the server's user approves it
 * in the panel and the production alias moves), the model card preview, refusals
 * shown inline, and a run name full of markup shown as text.
 *
 * The JupyterLab session acts as the server's user, `galata` (MLOPS_JLAB_USER in
 * jupyter_server_test_config.py), the store's first user and so its admin. The seed
 * cell acts as bob by reopening the kernel's backend with `mlops.configure(user=...)`.
 */

const MODEL = 'gov-cancer';
const VERSION_TAB = '.jp-MainAreaWidget.mlops-ModelVersionTab:visible';
const XSS_NAME =
  '<script>window.__xss = 1</script><img src=x onerror="window.__xss=2">';

const SEED = `import mlops_jlab as mlops
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

NAME = "${MODEL}"
print(mlops.whoami())
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
models = [make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000)),
          make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)),
          DecisionTreeClassifier(max_depth=1)]
for i, model in enumerate(models, start=1):
    with mlops.start_run(experiment="governance", name=f"gov-v{i}") as run:
        model.fit(X_train, y_train)
        run.log_metric("accuracy", model.score(X_test, y_test))
        run.log_model(model, input_example=X_train.head(3))
    mlops.register_model(run, NAME)
mlops.set_validation_rules(NAME, ["accuracy >= 0.9"])
for version in (1, 2):
    assert mlops.validate(NAME, version, data=(X_test, y_test)).passed
mlops.grant("bob", "contributor")

mlops.configure(user="bob")
first = mlops.request_promotion(NAME, 1, "baseline for production")
mlops.configure(user="galata")
mlops.approve(first, comment="baseline is fine")

mlops.configure(user="bob")
second = mlops.request_promotion(NAME, 2, "C=1.0 beats the baseline")
mlops.configure(user="galata")
print("chain ok", mlops.verify_audit().ok)
print("seeded", second.id)
`;

async function scrollTo(locator: Locator): Promise<void> {
  await locator.evaluate(el => el.scrollIntoView({ block: 'start' }));
}

test.describe.configure({ mode: 'serial' });
test.use({ mockUser: false });

test('audit: events after seeding, verified chain, filter, diff and export', async ({
  page,
  tmpPath
}, testInfo) => {
  test.setTimeout(300000);
  const consoleErrors = collectMlopsConsoleErrors(page);
  const output = await runSeedScript(page, tmpPath, 'seed_governance', SEED);
  await expect(output).toContainText('chain ok True');

  await openPanel(page);
  await page.sidebar.setWidth(520, 'left');
  // The header names the session's user and role.
  const identity = page.locator(`${PANEL} .mlops-Identity`);
  await expect(identity).toHaveAttribute('data-user', 'galata');
  await expect(identity).toHaveAttribute('data-role', 'admin');

  await onlySections(page, ['Audit']);
  const audit = page.locator(`${PANEL} .mlops-AuditSection`);
  const chain = audit.locator('.mlops-AuditChain');
  await expect(chain).toHaveAttribute('data-state', 'ok');
  await expect(chain).toContainText(/chain verified · \d+ events/);
  const events = audit.locator('.mlops-AuditEvent');
  await expect(events.first()).toBeVisible();
  // Newest first: the last seeded action is bob's second request.
  await expect(
    audit.locator('.mlops-AuditEvent[data-action="promotion.request"]').first()
  ).toBeVisible();
  const seqs = await events.evaluateAll(items =>
    items.map(i => Number(i.getAttribute('data-seq')))
  );
  expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);

  // Verify again on demand.
  await audit.locator('.mlops-AuditVerify').click();
  await expect(chain).toHaveAttribute('data-state', 'ok');

  // Filter: bob's promotion events only.
  await audit.getByLabel('Audit filter: Actor').fill('bob');
  await audit.getByLabel('Audit filter: Action').fill('promotion');
  await audit.locator('.mlops-AuditApply').click();
  await expect(audit.locator('.mlops-TableFooter')).toContainText('(filtered)');
  await expect(events).toHaveCount(2);
  for (const actor of await audit
    .locator('.mlops-AuditActor')
    .allInnerTexts()) {
    expect(actor).toBe('bob');
  }
  // Expand one: its before/after as a readable diff.
  await events.first().locator('.mlops-AuditEventRow').click();
  const diff = events.first().locator('.mlops-AuditDiff');
  await expect(diff).toBeVisible();
  await expect(diff.locator('tr[data-kind]').first()).toBeVisible();
  await expect(events.first().locator('.mlops-AuditHashes')).toContainText(
    'hash'
  );
  await screenshotBothThemes(page, testInfo, '60-audit');

  // A time range that ends before it starts is refused inline.
  await audit.getByLabel('Audit filter: From').fill('2030-01-02T00:00');
  await audit.getByLabel('Audit filter: To').fill('2030-01-01T00:00');
  await audit.locator('.mlops-AuditApply').click();
  await expect(audit.locator('.mlops-AuditFilterError')).toContainText('after');

  // Export the filtered events: a download through the server connection.
  await audit.locator('.mlops-AuditClear').click();
  await expect(audit.locator('.mlops-TableFooter')).not.toContainText(
    '(filtered)'
  );
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    audit.locator('.mlops-AuditExport-csv').click()
  ]);
  expect(download.suggestedFilename()).toMatch(/\.csv$/);
  const [jsonDownload] = await Promise.all([
    page.waitForEvent('download'),
    audit.locator('.mlops-AuditExport-json').click()
  ]);
  expect(jsonDownload.suggestedFilename()).toMatch(/\.json$/);
  expect(consoleErrors).toEqual([]);
});

test('promotion: bob requests, the admin approves in the panel, production moves', async ({
  page
}, testInfo) => {
  test.setTimeout(180000);
  const consoleErrors = collectMlopsConsoleErrors(page);
  await openPanel(page);
  await page.sidebar.setWidth(520, 'left');
  await onlySections(page, ['Models', 'Promotions']);

  const promotions = page.locator(`${PANEL} .mlops-PromotionsSection`);
  await expect(
    page.locator(`${PANEL} .jp-AccordionPanel-title`, {
      hasText: /^Promotions · 1 pending/
    })
  ).toBeVisible();
  // Pending first.
  const item = promotions
    .locator(`.mlops-PromotionItem[data-model="${MODEL}"]`)
    .first();
  await expect(item).toHaveAttribute('data-status', 'pending');
  await expect(item).toHaveAttribute('data-version', '2');
  // This model's two requests (examples run by earlier specs may have others).
  await expect(
    promotions.locator(`.mlops-PromotionItem[data-model="${MODEL}"]`)
  ).toHaveCount(2);
  await item.locator('.mlops-PromotionRow').click();
  const card = item.locator('.mlops-PromotionCard');
  await expect(card).toContainText('requested by bob');
  await expect(card.locator('.mlops-PromotionComment')).toHaveText(
    'C=1.0 beats the baseline'
  );
  // The metrics against production v1 and the validation report.
  await expect(card.locator('.mlops-MetricsDiff')).toContainText('accuracy');
  await expect(card).toContainText('vs production v1');
  await expect(card.locator('.mlops-ReportTable')).toContainText('accuracy');
  // The earlier request shows bob's request and the admin's decision.
  const approve = card.locator('.mlops-Approve');
  await expect(approve).toBeVisible();
  await expect(approve).toBeDisabled();
  await expect(card.locator('.mlops-Reject')).toBeDisabled();
  await screenshotBothThemes(page, testInfo, '61-promotion-pending');

  await card
    .getByLabel('Decision comment')
    .fill('Reviewed the metrics: ship it');
  await expect(approve).toBeEnabled();
  await approve.click();
  await expect(item).toHaveAttribute('data-status', 'approved');
  await expect(card.locator('.mlops-Decision')).toContainText(
    'galata approved'
  );
  await expect(card.locator('.mlops-Approve')).toHaveCount(0);
  await expect(card).toContainText('this version is production now');

  // The alias moved: v2 carries the production chip.
  const model = page.locator(
    `${PANEL} .mlops-ModelItem[data-model="${MODEL}"]`
  );
  await expect(
    model.locator('.mlops-ModelRow [data-alias="production"]')
  ).toContainText('production → v2');
  if (!(await model.locator('.mlops-VersionRow').count())) {
    await model.locator('.mlops-ModelRow').click();
  }
  const v2 = model.locator('.mlops-VersionRow[data-version="2"]');
  await expect(v2.locator('[data-alias="production"]')).toBeVisible();
  await screenshotBothThemes(page, testInfo, '62-promotion-approved');

  // The version tab shows the chip, and the model card in a sandboxed iframe.
  await v2.click();
  const tab = page.locator(VERSION_TAB);
  await expect(
    tab.locator('.mlops-AliasEditor [data-alias="production"]')
  ).toBeVisible();
  await expect(tab.locator('.mlops-RequestPromotion')).toHaveCount(0);
  const frame = tab.locator('iframe.mlops-ModelCardFrame');
  await expect(frame).toHaveAttribute('sandbox', '');
  await expect(frame).toHaveAttribute('srcdoc', new RegExp(MODEL));
  await tab
    .getByLabel('Intended use')
    .fill('Screening support only; a doctor decides.');
  await tab.locator('.mlops-IntendedUseSave').click();
  await expect(frame).toHaveAttribute('srcdoc', /Screening support only/);
  await scrollTo(
    tab.locator('.mlops-DetailSectionTitle', { hasText: 'Model card' })
  );
  await screenshotBothThemes(page, testInfo, '63-model-card');
  expect(consoleErrors).toEqual([]);
});

test('a promotion the server refuses shows its reason inline', async ({
  page
}, testInfo) => {
  test.setTimeout(120000);
  await openPanel(page);
  await page.sidebar.setWidth(520, 'left');
  await onlySections(page, ['Models']);
  const model = page.locator(
    `${PANEL} .mlops-ModelItem[data-model="${MODEL}"]`
  );
  if (!(await model.locator('.mlops-VersionRow').count())) {
    await model.locator('.mlops-ModelRow').click();
  }
  // v3 was never validated: the request is refused with a 422.
  await model.locator('.mlops-VersionRow[data-version="3"]').click();
  const tab = page.locator(VERSION_TAB);
  await expect(tab.locator('.mlops-VersionTitle')).toContainText('v3');
  await tab.locator('.mlops-RequestPromotion').click();
  await tab.getByLabel('Promotion request comment').fill('the stump, please');
  await tab.locator('.mlops-RequestSubmit').click();
  await expect(tab.locator('.mlops-PromotionError')).toContainText(
    /Refused to request the promotion: .*valid/i
  );
  await screenshotBothThemes(page, testInfo, '64-promotion-refused');
});

test('a run name full of markup is shown as text and never runs', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(180000);
  await runSeedScript(
    page,
    tmpPath,
    'seed_xss',
    `import mlops_jlab as mlops
with mlops.start_run(experiment="gov-xss", name=${JSON.stringify(XSS_NAME)}) as run:
    mlops.log_metric("accuracy", 0.5)
print("seeded", run.id)
`
  );
  await openPanel(page);
  await onlySections(page, ['Experiments', 'Runs']);
  await page
    .locator(`${PANEL} .mlops-ExperimentItem`, { hasText: 'gov-xss' })
    .click();
  const name = page.locator(`${PANEL} .mlops-RunsTable .mlops-RunName`).first();
  await expect(name).toHaveText(XSS_NAME);
  await expect(
    page.locator(
      `${PANEL} .mlops-RunsTable img, ${PANEL} .mlops-RunsTable script`
    )
  ).toHaveCount(0);
  await name.click();
  const runTab = page.locator('.jp-MainAreaWidget.mlops-RunDetailTab:visible');
  await expect(runTab.locator('.mlops-RunTitle')).toContainText(XSS_NAME);
  await expect(runTab.locator('img[src="x"], script')).toHaveCount(0);
  // The audit trail shows the name as text too.
  await onlySections(page, ['Audit']);
  await expect(
    page.locator(`${PANEL} .mlops-AuditSection .mlops-AuditEvent`).first()
  ).toBeVisible();
  expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
});
