import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  hideToasts,
  onlySections,
  openPanel,
  PANEL,
  runSeedScript,
  screenshot,
  screenshotBothThemes
} from './helpers';

/**
 * Schedules and notebook runs: the Schedules section (a seeded schedule with a
 * failed catch-up firing, missed firings and a manual one; expanding its history;
 * opening a firing's run), the schedule editor (prefilled from the file browser,
 * the server's message for a bad cron expression, then created), pause and resume,
 * delete; and the run tab of a sweep (its chart and child runs) and of a papermill
 * run (its error, its executed notebook in the read-only notebook tab).
 */

const SCHEDULE_ROWS = `${PANEL} .mlops-ScheduleItem`;
const SEEDED = 'seeded-nightly';
const CREATED = 'quickstart-nightly';

/**
 * Seeds runs cheaply (no kernel work beyond this script): a sweep parent with four
 * children (one failed) and its chart, a papermill-like run that failed with its
 * executed notebook stored; and a schedule with a history: a manual firing that
 * succeeded, two firings missed while "the server was down" (its clock set back),
 * and the late catch-up firing that failed.
 */
const SEED = `import json
import os
import time
import nbformat
import plotly.graph_objects as go
import mlops_jlab as mlops

root = os.getcwd()
while not os.path.exists(os.path.join(root, "quickstart.ipynb")):
    root = os.path.dirname(root)

mlops.set_experiment("sched-sweep")
parent = mlops.start_run(name="sweep-alpha", tags={"mlops.runner": "sweep", "mlops.sweep_metric": "accuracy"})
alphas = [0.01, 0.1, 1.0, 10.0]
accs = [0.81, 0.88, 0.93, None]
children = []
for i, (alpha, acc) in enumerate(zip(alphas, accs)):
    child = mlops.start_run(name=f"sweep-alpha-{i}", parent=parent,
                            params={"alpha": alpha, "solver": "lbfgs", "seed": 0},
                            tags={"mlops.sweep": parent.id, "mlops.runner": "papermill"})
    if acc is None:
        child.end("failed", error=(
            "cell 3 (In [3]) raised ValueError: alpha=10.0 makes the solver diverge\\n\\n"
            "--- cell source ---\\nmodel = LogisticRegression(C=1 / alpha).fit(X, y)\\n"
            "check(model)\\n\\n--- traceback ---\\n"
            "---------------------------------------------------------------------------\\n"
            "ValueError                                Traceback (most recent call last)\\n"
            "Cell In[3], line 2\\n      1 model = LogisticRegression(C=1 / alpha).fit(X, y)\\n"
            "----> 2 check(model)\\n\\nValueError: alpha=10.0 makes the solver diverge"))
    else:
        child.log_metrics({"accuracy": acc, "f1": round(acc - 0.02, 3)})
        child.end()
    children.append(child)
fig = go.Figure(go.Scatter(x=alphas[:3], y=accs[:3], mode="lines+markers", name="accuracy"))
fig.add_trace(go.Scatter(x=[1.0], y=[0.93], mode="markers", name="best",
                         marker={"symbol": "star", "size": 18, "color": "#f2b701"}))
fig.update_layout(template="plotly_white", title={"text": "<b>accuracy across the sweep</b>"
                  "<br><sup>4 combination(s) of train.ipynb · 1 failed · best accuracy = 0.93</sup>"},
                  xaxis={"title": {"text": "alpha"}, "type": "log"},
                  yaxis={"title": {"text": "accuracy"}}, showlegend=False, height=380)
parent.log_figure(fig, "sweep/summary.json")
parent.set_tags({"mlops.sweep_best_run": children[2].id, "mlops.sweep_failed": "1"})
parent.log_metric("best_accuracy", 0.93)
parent.end("finished", error="1 of 4 combination(s) failed")

nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_markdown_cell("# Train"),
            nbformat.v4.new_code_cell("alpha = 0.5", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell("print('accuracy', 0.9)", execution_count=2,
                                      outputs=[nbformat.v4.new_output("stream", name="stdout", text="accuracy 0.9\\n")])]
with mlops.start_run(name="papermill-train", tags={"mlops.runner": "papermill"}) as pm:
    pm.log_text(nbformat.writes(nb), "source/train.ipynb")
    pm.log_text(nbformat.writes(nb), "output/train.ipynb")
    pm.log_metric("accuracy", 0.9)

svc = mlops.backend().schedules
now = time.time()
try:
    svc.clock = lambda: now - 3 * 86400
    sched = mlops.create_schedule("${SEEDED}", "0 3 * * *", os.path.join(root, "quickstart.ipynb"),
                                  parameters={"alpha": 0.5}, experiment="sched-sweep")
    svc.clock = lambda: now - 3 * 86400 + 60
    _, manual = svc.start_manual(sched["id"], mlops.backend().user)
    svc.finish(manual["id"], "succeeded", run_id=parent.id)
    svc.clock = lambda: now
    for _, firing in svc.claim_due():
        svc.finish(firing["id"], "failed", run_id=children[3].id,
                   error="cell 3 (In [3]) raised ValueError: alpha=10.0 makes the solver diverge\\n--- traceback ---\\n...")
finally:
    svc.clock = time.time
print("IDS", json.dumps({"parent": parent.id, "failed": children[3].id, "papermill": pm.id}))
print(mlops.get_schedule("${SEEDED}")["missed"], "missed; seeded")
`;

let ids: { parent: string; failed: string; papermill: string } | null = null;

/** Show the panel, wide enough for a schedule row, with only the Schedules section. */
async function showSchedules(page: IJupyterLabPageFixture): Promise<Locator> {
  await openPanel(page);
  await page.sidebar.setWidth(460, 'left');
  await onlySections(page, ['Schedules']);
  return page.locator(`${PANEL} .mlops-SchedulesSection`);
}

function row(page: IJupyterLabPageFixture, name: string): Locator {
  return page.locator(`${SCHEDULE_ROWS}[data-schedule="${name}"]`);
}

test.describe.configure({ mode: 'serial' });
test.use({ mockUser: false });

test('seed: a sweep with child runs, a papermill run and a schedule with history', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(120000);
  const output = await runSeedScript(
    page,
    tmpPath,
    'seed_schedules',
    SEED,
    90000
  );
  await expect(output).toContainText('2 missed; seeded');
  const text = (await output.textContent()) ?? '';
  ids = JSON.parse(/IDS (\{[^}]*\})/.exec(text)![1]);
});

test('the Schedules section: state, missed firings, history, a firing opens its run', async ({
  page
}, testInfo) => {
  const section = await showSchedules(page);
  const seeded = row(page, SEEDED);
  await expect(seeded).toBeVisible({ timeout: 30000 });
  await expect(seeded).toHaveAttribute('data-state', 'failed');
  await expect(seeded.locator('.mlops-ScheduleCron')).toHaveText(
    'At 03:00 every day'
  );
  await expect(seeded.locator('.mlops-ScheduleCron')).toHaveAttribute(
    'title',
    'cron 0 3 * * * (UTC)'
  );
  await expect(seeded.locator('.mlops-ScheduleNext')).toContainText(/next in/);
  await expect(seeded.locator('.mlops-MissedChip')).toHaveText(/2 missed/);
  await expect(seeded.locator('.mlops-SchedulePathText')).toHaveText(
    'quickstart.ipynb'
  );
  await expect(
    page.locator(`${PANEL} .jp-AccordionPanel-title`, {
      hasText: 'Schedules · 1 failing'
    })
  ).toBeVisible();

  // Expanding the row shows its firings, the missed ones flagged.
  await seeded.locator('.mlops-ScheduleRow').click();
  const firings = seeded.locator('.mlops-FiringRow');
  await expect(firings).toHaveCount(4);
  await expect(firings.nth(0)).toHaveAttribute('data-trigger', 'catch-up');
  await expect(firings.nth(0)).toHaveAttribute('data-status', 'failed');
  await expect(firings.nth(0).locator('.mlops-FiringError')).toHaveText(
    'cell 3 (In [3]) raised ValueError: alpha=10.0 makes the solver diverge'
  );
  await expect(
    seeded.locator('.mlops-FiringRow.mlops-firing-missed')
  ).toHaveCount(2);
  await expect(firings.nth(3)).toHaveAttribute('data-trigger', 'manual');
  await screenshotBothThemes(page, testInfo, 'schedules-01-section-history');

  // The failed firing's run link opens its run tab, with the error readable.
  await firings.nth(0).locator('.mlops-FiringRun').click();
  const tab = page.locator('.jp-MainAreaWidget.mlops-RunDetailTab:visible');
  await expect(tab.locator('.mlops-RunErrorHeadline')).toHaveText(
    'cell 3 (In [3]) raised ValueError: alpha=10.0 makes the solver diverge'
  );
  await expect(tab.locator('.mlops-RunError .mlops-Traceback')).toContainText(
    '----> 2 check(model)'
  );
  await expect(tab.locator('.mlops-ParentRun')).toBeVisible();
  await screenshot(page, testInfo, 'schedules-02-failed-run-error');
  await expect(section).toBeVisible();
});

test('the editor: prefilled from the file browser, the server names a bad cron, create, pause, resume, delete', async ({
  page
}, testInfo) => {
  await showSchedules(page);
  // Select a notebook of the root in the file browser: the palette offers to
  // schedule it (the command is hidden while no notebook is current or selected).
  await page.sidebar.openTab('filebrowser');
  await page.filebrowser.openHomeDirectory();
  const item = page.locator('.jp-DirListing-item', {
    hasText: 'quickstart.ipynb'
  });
  await item.click();
  await page.keyboard.press('Control+Shift+C');
  await page.getByPlaceholder('SEARCH', { exact: true }).fill('MLOps: ');
  for (const label of [
    'MLOps: New schedule…',
    'MLOps: Schedule this notebook…'
  ]) {
    await expect(
      page.locator('.lm-CommandPalette-item', { hasText: label })
    ).toBeVisible();
  }
  await page.keyboard.press('Escape');

  // Right-click it: "Schedule this notebook…" opens the editor, prefilled.
  await item.click({ button: 'right' });
  await page
    .locator('.lm-Menu-item', { hasText: 'Schedule this notebook…' })
    .click();
  const dialog = page.locator('.jp-Dialog.mlops-ScheduleDialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.locator('input[name="path"]')).toHaveValue(
    'quickstart.ipynb'
  );
  await expect(dialog.locator('input[name="name"]')).toHaveValue(CREATED);
  await expect(dialog.locator('.mlops-CronDescription')).toHaveText(
    'At 02:00 every day'
  );
  await expect(dialog.locator('.mlops-CronNext li')).toHaveCount(3);

  // A bad expression: the server's message under the field, live and on save.
  const cron = dialog.locator('input[name="cron"]');
  await cron.fill('0 2 * *');
  const problem = dialog.locator('.mlops-CronError');
  await expect(problem).toContainText('must have five fields');
  await dialog.locator('textarea[name="parameters"]').fill('{"alpha": 0.3}');
  await screenshot(page, testInfo, 'schedules-03-editor-bad-cron');
  await dialog.getByRole('button', { name: 'Create the schedule' }).click();
  await expect(problem).toContainText('must have five fields');
  await expect(dialog).toBeVisible();
  // Nothing typed was lost.
  await expect(dialog.locator('textarea[name="parameters"]')).toHaveValue(
    '{"alpha": 0.3}'
  );

  // Fixed: the preview reads it; the schedule is created.
  await cron.fill('30 6 * * 1-5');
  await expect(dialog.locator('.mlops-CronDescription')).toHaveText(
    'At 06:30 on Monday through Friday'
  );
  await dialog.locator('input[name="timezone"]').fill('Europe/Paris');
  await expect(dialog.locator('.mlops-CronNext')).toContainText('Europe/Paris');
  await screenshotBothThemes(page, testInfo, 'schedules-04-editor');
  await dialog.getByRole('button', { name: 'Create the schedule' }).click();
  await expect(dialog).toHaveCount(0);

  const created = row(page, CREATED);
  await expect(created).toBeVisible();
  await expect(created).toHaveAttribute('data-state', 'active');
  await expect(created.locator('.mlops-ScheduleCron')).toHaveText(
    'At 06:30 on Monday through Friday'
  );
  await screenshot(page, testInfo, 'schedules-05-created');

  // Pause, then resume.
  await created
    .getByRole('button', { name: `Pause ${CREATED}`, exact: true })
    .click();
  await expect(created).toHaveAttribute('data-paused', 'true');
  await expect(created.locator('.mlops-ScheduleNext')).toHaveCount(0);
  await expect(created.locator('.mlops-PausedFlag')).toBeVisible();
  await screenshot(page, testInfo, 'schedules-06-paused');
  await created
    .getByRole('button', { name: `Resume ${CREATED}`, exact: true })
    .click();
  await expect(created).toHaveAttribute('data-paused', 'false');
  await expect(created.locator('.mlops-ScheduleNext')).toContainText('next in');

  // Its history: not run yet; the context menu has the row's actions.
  await created.locator('.mlops-ScheduleRow').click();
  await expect(created.locator('.mlops-ScheduleHistory')).toContainText(
    'Not run yet'
  );
  await expect(created.locator('.mlops-ScheduleFacts')).toContainText(
    'alpha=0.3'
  );
  await created.locator('.mlops-ScheduleName').click({ button: 'right' });
  const menu = page.locator('.lm-Menu');
  for (const label of ['Run now', 'Pause', 'Edit…', 'Delete…']) {
    await expect(menu.getByText(label, { exact: true })).toBeVisible();
  }
  await page.keyboard.press('Escape');

  // Edit: the same editor, filled with the schedule.
  await created
    .getByRole('button', { name: `Edit ${CREATED}`, exact: true })
    .click();
  await expect(dialog).toBeVisible();
  await expect(dialog.locator('input[name="cron"]')).toHaveValue(
    '30 6 * * 1-5'
  );
  await expect(dialog.locator('input[name="timezone"]')).toHaveValue(
    'Europe/Paris'
  );
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // Delete, after a confirmation.
  await created
    .getByRole('button', { name: `Delete ${CREATED}`, exact: true })
    .click();
  const confirm = page.locator('.jp-Dialog');
  await expect(confirm).toContainText(`Delete schedule ${CREATED}?`);
  await confirm.getByRole('button', { name: 'Delete the schedule' }).click();
  await expect(created).toHaveCount(0);
  await expect(row(page, SEEDED)).toBeVisible();
});

test('the run tab of a sweep: its chart and child runs; a papermill run shows its executed notebook', async ({
  page
}, testInfo) => {
  expect(ids).not.toBeNull();
  await page.evaluate(async runId => {
    await (window as any).jupyterapp.commands.execute('mlops:open-run', {
      runId
    });
  }, ids!.parent);
  const tab = page.locator('.jp-MainAreaWidget.mlops-RunDetailTab:visible');
  await expect(tab.locator('.mlops-SweepChart .js-plotly-plot')).toBeVisible({
    timeout: 30000
  });
  const children = tab.locator('.mlops-ChildRunRow');
  await expect(children).toHaveCount(4);
  await expect(tab.locator('.mlops-ChildRuns th')).toContainText([
    'Name',
    'alpha',
    'accuracy',
    'f1'
  ]);
  await expect(tab.locator('.mlops-ChildRunRow.mlops-mod-best')).toContainText(
    'sweep-alpha-2'
  );
  await screenshotBothThemes(page, testInfo, 'schedules-07-sweep-run-tab');

  // A child row opens the child run.
  await children.nth(3).click();
  await expect(
    page.locator(
      '.jp-MainAreaWidget.mlops-RunDetailTab:visible .mlops-RunTitle'
    )
  ).toHaveText('sweep-alpha-3');

  // The papermill run's executed notebook opens read-only in its own tab.
  await page.evaluate(async runId => {
    await (window as any).jupyterapp.commands.execute('mlops:open-run', {
      runId
    });
  }, ids!.papermill);
  const pm = page.locator('.jp-MainAreaWidget.mlops-RunDetailTab:visible');
  await expect(
    pm.getByRole('button', { name: 'View source/train.ipynb' })
  ).toBeVisible();
  await pm.locator('.mlops-ArtifactActions').first().scrollIntoViewIfNeeded();
  await hideToasts(page); // alerts of earlier projects' deployments cover the row
  await screenshot(page, testInfo, 'schedules-08-papermill-artifacts');
  await pm.getByRole('button', { name: 'View output/train.ipynb' }).click();
  const snapshot = page.locator(
    '.jp-MainAreaWidget.mlops-NotebookSnapshotTab:visible'
  );
  await expect(snapshot.locator('.mlops-SnapshotTitle')).toContainText(
    'output/train.ipynb'
  );
  await expect(snapshot.locator('iframe.mlops-SnapshotFrame')).toBeVisible();
  await expect(
    page.locator('.lm-TabBar-tab.jp-mod-current', {
      hasText: `train.ipynb · run ${ids!.papermill.slice(0, 8)}`
    })
  ).toBeVisible();
  await screenshot(page, testInfo, 'schedules-09-output-notebook');

  // After a reload the notebook tab is back, on the same artifact.
  await page.waitForTimeout(1500);
  await page.evaluate(() =>
    window.history.replaceState(null, '', window.location.pathname)
  );
  await page.reload({ waitForIsReady: false });
  await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
  const restored = page.locator('.jp-MainAreaWidget.mlops-NotebookSnapshotTab');
  await expect(restored).toHaveCount(1, { timeout: 30000 });
  await expect(restored.locator('.mlops-SnapshotTitle')).toContainText(
    'output/train.ipynb'
  );
});
