import { expect, test } from '@jupyterlab/galata';

import {
  collectMlopsConsoleErrors,
  openPanel,
  PANEL,
  runSeedCell,
  screenshot,
  screenshotBothThemes
} from './helpers';

/**
 * End-to-end tests of the Deployments section and the deployment tab: a notebook
 * registers two versions of a small model and deploys v1; the Jupyter server's
 * controller serves it. Runs after mlops.spec.ts and models.spec.ts (one server,
 * one store).
 */

const DEPLOYMENT = 'iris-ui';
const DEPLOYMENT_TAB = '.jp-MainAreaWidget.mlops-DeploymentTab:visible';

// One statement per line, no indented block: the editor auto-indents what Galata types.
const DEPLOY_CODE = `import mlops_jlab as mlops
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True, as_frame=True)
with mlops.start_run(name="dep") as run: run.log_model(LogisticRegression(max_iter=500).fit(X, y), input_example=X)
with mlops.start_run(name="dep-c01") as run2: run2.log_model(LogisticRegression(C=0.1, max_iter=500).fit(X, y), input_example=X)
mlops.register_model(run, "iris-ui")
mlops.register_model(run2, "iris-ui")
dep = mlops.deploy("iris-ui", version=1, name="${DEPLOYMENT}", wait=True)
print("deployed", dep.name)`;

test.describe.configure({ mode: 'serial' });

test('a deployed model shows in the Deployments section and its tab serves predictions, changes traffic, rolls back and stops', async ({
  page
}, testInfo) => {
  test.setTimeout(400000);
  const consoleErrors = collectMlopsConsoleErrors(page);

  // Register and deploy from a new notebook.
  await runSeedCell(
    page,
    'deploy.ipynb',
    DEPLOY_CODE,
    `deployed ${DEPLOYMENT}`,
    120000
  );

  // The panel polls: the deployment shows with a green light, without any click.
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
    { timeout: 30000 }
  );
  await expect(row.locator('.mlops-DeploymentTraffic')).toHaveText(
    'iris-ui v1 100%'
  );
  await expect(row.locator('.mlops-EnvBadge')).toHaveText('staging');
  await expect(row.locator('.mlops-DeploymentReplicas')).toHaveText('1/1');
  await section.scrollIntoViewIfNeeded();
  await screenshot(page, testInfo, '20-deployments-panel');

  // The deployment tab: header, traffic, replicas, events.
  await row.click();
  const tab = page.locator(DEPLOYMENT_TAB);
  await expect(tab.locator('.mlops-DeploymentTitle')).toHaveText(DEPLOYMENT);
  await expect(
    page.locator(
      '#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel'
    )
  ).toHaveText(`Deployment ${DEPLOYMENT}`);
  await expect(tab.locator('.mlops-StatusLight').first()).toHaveAttribute(
    'data-light',
    'green'
  );
  await expect(tab.locator('.mlops-EndpointUrl')).toContainText('/v1/predict');
  await expect(tab.getByLabel('Weight of v1')).toHaveValue('100');
  await expect(tab.locator('.mlops-ReplicasTable tbody tr')).toHaveCount(1);
  await expect(tab.locator('.mlops-ReplicasTable')).toContainText('✓ yes');
  // Revision 1: nothing to roll back to.
  await expect(tab.locator('.mlops-RollbackButton')).toBeDisabled();
  await expect(row).toHaveClass(/mlops-mod-current/);
  // Clicking the row again reuses the tab.
  await row.click();
  await expect(
    page.locator('.jp-MainAreaWidget.mlops-DeploymentTab')
  ).toHaveCount(1);
  await screenshot(page, testInfo, '21-deployment-tab');

  // Try it: the body is the first row of the model's input example (iris row 0).
  const body = tab.locator('.mlops-TryItBody');
  await expect(tab.locator('.mlops-TryIt .mlops-Note')).toContainText(
    'input example of v1'
  );
  const example = JSON.parse(await body.inputValue());
  expect(example).toEqual({
    inputs: [
      {
        'sepal length (cm)': 5.1,
        'sepal width (cm)': 3.5,
        'petal length (cm)': 1.4,
        'petal width (cm)': 0.2
      }
    ]
  });
  await tab.locator('.mlops-TryItSend').click();
  const response = tab.locator('.mlops-TryItResponse');
  await expect(response).toContainText('"predictions"');
  expect(JSON.parse(await response.innerText())).toMatchObject({
    predictions: [0],
    model_version: 1
  });
  await tab
    .locator('.mlops-DetailSectionTitle', { hasText: 'Try it' })
    .evaluate(el => el.scrollIntoView({ block: 'start' }));
  await screenshot(page, testInfo, '22-try-it');

  // A schema mismatch: the worker's 422 as a message and one line per problem.
  await body.fill('{"inputs": [{"nope": 1}]}');
  await tab.locator('.mlops-TryItSend').click();
  const refusal = tab.locator('.mlops-TryItResult.mlops-mod-error');
  await expect(refusal.locator('.mlops-TryItStatus')).toHaveText(
    /HTTP 422\s*schema_mismatch/
  );
  await expect(refusal.locator('.mlops-ErrorDetailMessage')).toContainText(
    'does not match the model signature'
  );
  await expect(
    refusal.locator('.mlops-ErrorProblems li').first()
  ).toContainText("missing column 'sepal length (cm)'");
  await expect(refusal.locator('.mlops-ErrorProblems')).toContainText(
    "column 'nope'"
  );
  // Readable, not the JSON body.
  await expect(refusal).not.toContainText('"problems"');
  await expect(refusal).not.toContainText('{');
  await screenshotBothThemes(page, testInfo, '23-try-it-refused');
  // Reset example brings the input example back.
  await tab.locator('.mlops-TryItReset').click();
  await expect(body).toHaveValue(/"sepal length \(cm\)": 5\.1/);
  await expect(tab.locator('.mlops-TryItResult')).toHaveCount(0);

  // Traffic: an invalid sum is caught inline and Apply stays disabled.
  const weightV1 = tab.getByLabel('Weight of v1');
  await weightV1.fill('90');
  await expect(tab.locator('.mlops-TrafficError')).toContainText(
    'add up to 100'
  );
  await expect(tab.locator('.mlops-TrafficApply')).toBeDisabled();
  await tab.locator('.mlops-TrafficReset').click();
  await expect(tab.locator('.mlops-TrafficError')).toHaveCount(0);

  // A version the model does not have: the server's refusal, shown inline.
  const addInput = tab.locator('.mlops-TrafficAdd');
  await addInput.fill('9');
  await tab.locator('.mlops-TrafficAddButton').click();
  await weightV1.fill('90');
  await tab.getByLabel('Weight of v9').fill('10');
  await expect(tab.locator('.mlops-TrafficError')).toHaveCount(0);
  await tab.locator('.mlops-TrafficApply').click();
  await expect(tab.locator('.mlops-TrafficError')).toContainText(
    'has no version 9'
  );
  await expect(tab.locator('.mlops-DeploymentRevision')).toHaveText('1');

  // A canary: v1 90%, v2 10% is a new revision; the panel row follows.
  await tab.getByLabel('Remove v9').click();
  await addInput.fill('v2');
  await tab.locator('.mlops-TrafficAddButton').click();
  await tab.getByLabel('Weight of v2').fill('10');
  await expect(weightV1).toHaveValue('90');
  await tab.locator('.mlops-TrafficApply').click();
  await expect(tab.locator('.mlops-DeploymentRevision')).toHaveText('2');
  await expect(tab.getByLabel('Weight of v2')).toHaveValue('10');
  await expect(tab.locator('.mlops-TrafficError')).toHaveCount(0);
  await expect(row.locator('.mlops-DeploymentTraffic')).toHaveText(
    'iris-ui v1 90% · v2 10%'
  );
  // The PATCH's own event (the controller adds "now serving revision 2" later).
  await expect(
    tab.locator('.mlops-EventsTable .mlops-EventRow[data-kind="updated"]', {
      hasText: 'v1 90%, v2 10%'
    })
  ).toHaveCount(1);
  // The controller replaces the worker; the light turns green again.
  await expect(tab.locator('.mlops-StatusLight').first()).toHaveAttribute(
    'data-light',
    'green',
    { timeout: 60000 }
  );
  await expect(tab.locator('.mlops-RollbackButton')).toBeEnabled();
  await screenshot(page, testInfo, '24-canary');

  // Rollback: back to v1 100% as revision 3.
  await tab.locator('.mlops-RollbackButton').click();
  await expect(tab.locator('.mlops-DeploymentRevision')).toHaveText('3');
  await expect(row.locator('.mlops-DeploymentTraffic')).toHaveText(
    'iris-ui v1 100%'
  );
  await expect(tab.locator('.mlops-DeploymentError')).toHaveCount(0);
  await expect(
    tab.locator('.mlops-EventsTable .mlops-EventRow[data-kind="rolled_back"]')
  ).toHaveCount(1);

  // Events: newest first, with deployed and ready.
  const events = tab.locator('.mlops-EventsTable');
  await expect(events.locator('.mlops-EventRow').last()).toHaveAttribute(
    'data-kind',
    'deployed'
  );
  await expect(
    events
      .locator('.mlops-EventRow[data-kind="ready"] .mlops-EventIcon')
      .first()
  ).toHaveClass(/mlops-tone-ok/);

  // Stop, after a confirmation: grey light, nothing to send to, row greyed out.
  await tab.locator('.mlops-StopButton').click();
  await page.locator('.jp-Dialog .jp-Dialog-button.jp-mod-warn').click();
  await expect(tab.locator('.mlops-DeploymentStatus')).toHaveText('stopped');
  await expect(tab.locator('.mlops-StatusLight').first()).toHaveAttribute(
    'data-light',
    'grey'
  );
  await expect(tab.locator('.mlops-StopButton')).toBeDisabled();
  await expect(tab.locator('.mlops-TryItSend')).toBeDisabled();
  await expect(row).toHaveClass(/mlops-mod-stopped/);
  await expect(row.locator('.mlops-DeploymentStatus')).toHaveText('stopped');
  await expect(row.locator('.mlops-StatusLight')).toHaveAttribute(
    'data-light',
    'grey'
  );
  await expect(
    tab.locator('.mlops-EventsTable .mlops-EventRow[data-kind="stopped"]')
  ).toHaveCount(1);
  await tab
    .locator('.mlops-DetailSectionTitle', { hasText: 'Events' })
    .evaluate(el => el.scrollIntoView({ block: 'start' }));
  await screenshot(page, testInfo, '25-stopped');

  expect(consoleErrors).toEqual([]);
});
