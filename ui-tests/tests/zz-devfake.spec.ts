// TEMPORARY dev-only spec against the fake server: delete before handing over.
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';
test('dev: seeded panel and detail', async ({ page }) => {
  test.setTimeout(120000);
  const shot = (n: string) =>
    page.screenshot({
      path: path.join(__dirname, '..', 'test-results', 'dev', `${n}.png`)
    });
  await page
    .locator('.jp-SideBar.jp-mod-left [data-id="mlops-jlab-panel"]')
    .click();
  const panel = page.locator('#mlops-jlab-panel');
  await expect(panel.locator('.mlops-RunRow').first()).toBeVisible();
  await shot('a-panel');
  await page.evaluate(async () => {
    const x = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1];
    await fetch('/mlops/api/runs', {
      method: 'POST',
      body: JSON.stringify({ experiment: 'quickstart', name: 'new-run' }),
      headers: { 'X-XSRFToken': x || '' }
    });
  });
  await expect(
    panel.locator('.mlops-RunRow', { hasText: 'new-run' }).first()
  ).toBeVisible({ timeout: 15000 });
  await panel.locator('th.mlops-col-metric').first().click();
  await expect(panel.locator('th.mlops-mod-sorted')).toBeVisible();
  await shot('b-sorted');
  await panel.locator('.mlops-FilterInput').fill('metrics > 1');
  await panel.locator('.mlops-FilterInput').press('Enter');
  await expect(panel.locator('.mlops-FilterError')).toBeVisible();
  await shot('c-badfilter');
  await panel.locator('.mlops-FilterInput').press('Escape');
  await panel.locator('.mlops-RunRow').first().click();
  await expect(
    page.locator('.mlops-RunDetail .js-plotly-plot').first()
  ).toBeVisible({ timeout: 20000 });
  await page.waitForTimeout(1000);
  await shot('d-detail');
  await panel.locator('.mlops-RunRow', { hasText: 'broken' }).click();
  await expect(page.locator('.mlops-Traceback')).toBeVisible();
  await page
    .locator('.mlops-RunDetail:visible .mlops-DetailSectionTitle', {
      hasText: 'Environment'
    })
    .click();
  await page.waitForTimeout(500);
  await shot('e-failed');
  await page.evaluate(() =>
    (window as any).jupyterapp.commands.execute('apputils:change-theme', {
      theme: 'JupyterLab Dark'
    })
  );
  await page.waitForTimeout(2500);
  await panel.locator('.mlops-RunRow', { hasText: 'new-run' }).first().click();
  await page.waitForTimeout(1500);
  await shot('f-dark');
});
