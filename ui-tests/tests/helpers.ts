import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator, Page, TestInfo } from '@playwright/test';
import * as path from 'path';

/**
 * Shared setup of the mlops_jlab browser tests.
 */

export const PANEL_TAB = '.jp-SideBar.jp-mod-left [data-id="mlops-jlab-panel"]';
export const PANEL = '#mlops-jlab-panel';

/** Saves a screenshot under test-results/screenshots and attaches it to the report. */
export async function screenshot(
  page: Page,
  testInfo: TestInfo,
  name: string
): Promise<void> {
  const file = path.join(
    __dirname,
    '..',
    'test-results',
    'screenshots',
    `${name}.png`
  );
  await page.screenshot({ path: file });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

/** The same screenshot in the light theme, then (suffixed -dark) in the dark one. */
export async function screenshotBothThemes(
  page: IJupyterLabPageFixture,
  testInfo: TestInfo,
  name: string
): Promise<void> {
  await screenshot(page, testInfo, name);
  await page.theme.setDarkTheme();
  await screenshot(page, testInfo, `${name}-dark`);
  await page.theme.setLightTheme();
}

/**
 * Seeds the server with real data: runs `code` as the one cell of a new notebook,
 * waits until its output shows `marker`, and checks that no cell failed. Returns the
 * cell's output area.
 */
export async function runSeedCell(
  page: IJupyterLabPageFixture,
  notebook: string,
  code: string,
  marker: string,
  timeout = 240000
): Promise<Locator> {
  await page.notebook.createNew(notebook);
  await page.notebook.setCell(0, 'code', code);
  await page.notebook.runCell(0);
  const output = page.locator('.jp-NotebookPanel .jp-Cell-outputArea').first();
  await expect(output).toContainText(marker, { timeout });
  await expect(
    page.locator(
      '.jp-NotebookPanel .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
    )
  ).toHaveCount(0);
  return output;
}

/** Shows the MLOps side panel (clicking its tab only when it is not selected yet). */
export async function openPanel(page: IJupyterLabPageFixture): Promise<void> {
  const tab = page.locator(PANEL_TAB);
  await expect(tab).toBeVisible();
  if ((await tab.getAttribute('aria-selected')) !== 'true') {
    await tab.click();
  }
  await expect(page.locator(PANEL)).toBeVisible();
}

/**
 * Collects the console errors that mention mlops; the returned array fills up
 * while the test runs.
 */
export function collectMlopsConsoleErrors(page: Page): string[] {
  const consoleErrors: string[] = [];
  page.on('console', msg => {
    if (msg.type() === 'error' && /mlops/i.test(msg.text())) {
      consoleErrors.push(msg.text());
    }
  });
  return consoleErrors;
}

/**
 * Opens a notebook of the server root, shows the MLOps panel beside it (wide enough
 * for the runs table's metric and param columns), runs every cell and checks that
 * no cell failed.
 */
export async function runNotebookWithPanel(
  page: IJupyterLabPageFixture,
  notebook: string
): Promise<void> {
  // The server root is a scratch copy of examples/ (jupyter_server_test_config.py).
  // Open it while the file browser is the visible sidebar, then show the MLOps panel.
  // (A leading slash makes Galata leave its per-test folder for the server root.)
  expect(await page.notebook.openByPath(`/${notebook}`)).toBe(true);
  await page.notebook.activate(notebook);
  await openPanel(page);
  // Room for the runs table's metric and param columns (users drag the same handle).
  await page.sidebar.setWidth(560, 'left');
  expect(await page.notebook.run()).toBe(true);
  // No cell of the notebook may fail.
  await expect(
    page.locator(
      '.jp-NotebookPanel .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
    )
  ).toHaveCount(0);
}

/** The titles of the MLOps panel's sections, top to bottom. */
export const SECTIONS = [
  'Experiments',
  'Runs',
  'Models',
  'Promotions',
  'Deployments',
  'Alerts',
  'Schedules',
  'Audit'
];

/** The heading of a section of the MLOps panel's accordion. */
function sectionHeading(page: IJupyterLabPageFixture, title: string): Locator {
  return page.locator(`${PANEL} .jp-AccordionPanel-title`, {
    hasText: new RegExp(`^${title}`)
  });
}

/** Collapse a section of the MLOps panel's accordion (room for the others). */
export async function collapseSection(
  page: IJupyterLabPageFixture,
  title: string
): Promise<void> {
  const heading = sectionHeading(page, title);
  if ((await heading.getAttribute('aria-expanded')) === 'true') {
    await heading.click();
  }
  await expect(heading).toHaveAttribute('aria-expanded', 'false');
}

/** Expand a section of the MLOps panel's accordion. */
export async function expandSection(
  page: IJupyterLabPageFixture,
  title: string
): Promise<void> {
  const heading = sectionHeading(page, title);
  if ((await heading.getAttribute('aria-expanded')) !== 'true') {
    await heading.click();
  }
  await expect(heading).toHaveAttribute('aria-expanded', 'true');
}

/** Show only these sections of the panel. */
export async function onlySections(
  page: IJupyterLabPageFixture,
  shown: string[]
): Promise<void> {
  for (const title of SECTIONS) {
    if (shown.includes(title)) {
      await expandSection(page, title);
    } else {
      await collapseSection(page, title);
    }
  }
}

/**
 * Upload a seed script beside the test's notebook and `%run` it in a cell (a
 * script, not the cell's text: the editor would re-indent typed blocks); its
 * output must end up printing `seeded`.
 */
export async function runSeedScript(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name: string,
  script: string,
  timeout = 240000
): Promise<Locator> {
  await page.contents.uploadContent(script, 'text', `${tmpPath}/${name}.py`);
  return runSeedCell(
    page,
    `${name}.ipynb`,
    `%run ${name}.py`,
    'seeded',
    timeout
  );
}

/**
 * Hide the notification toasts for the rest of the page's life (e.g. alerts of
 * deployments seeded by earlier projects): they sit over the bottom right of the
 * main area and take clicks meant for what is under them.
 */
export async function hideToasts(page: IJupyterLabPageFixture): Promise<void> {
  await page.addStyleTag({
    content: '.Toastify__toast-container { display: none !important; }'
  });
}
