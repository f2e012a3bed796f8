import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import * as path from 'path';

import {
  collapseSection,
  collectMlopsConsoleErrors,
  openPanel,
  PANEL,
  PANEL_TAB,
  runSeedCell,
  screenshot,
  screenshotBothThemes
} from './helpers';

/**
 * End-to-end test of alerts against the real server: a notebook cell runs a seed
 * script that trains on breast cancer data (training dataset logged), deploys it,
 * sends traffic whose size features are 40% larger plus requests the signature
 * refuses, sets four alert rules (dataset drift with a retrain action, a column's
 * drift over the newest 50 rows, error rate, p99 latency) and evaluates them; then
 * calm traffic resolves the column alert. The panel's Alerts section, the badge on
 * the panel's icon, the notifications, acknowledging, the deployment tab's rules
 * table and the server's 400 on a bad rule are checked.
 * Runs after monitoring.spec.ts (one server, one store).
 */

const DEPLOYMENT = 'cancer-alerts';
const TAB = '.jp-MainAreaWidget.mlops-DeploymentTab:visible';
const VERSION_TAB = '.jp-MainAreaWidget.mlops-ModelVersionTab:visible';
const TOAST = '.Toastify__toast';
const SEEN_KEY = 'mlops-jlab:seen-alerts';

// Run with `%run` from the test's folder; the retraining notebook is the one of
// examples/monitoring.ipynb (the server root is a copy of examples/).
const SEED_SCRIPT = `import contextlib
import os
import time
import mlops_jlab as mlops
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

NAME = "${DEPLOYMENT}"
# Retraining notebooks are named relative to the server root (the folder above this
# test's), and a kernel retrains relative to its working directory: work from the root.
os.chdir("..")
TRAIN = os.path.join("monitoring", "train.ipynb")
assert os.path.isfile(TRAIN), os.path.abspath(TRAIN)

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
with mlops.start_run(name="alerts") as run:
    run.log_dataset(X_train, "cancer-alerts-train", role="train")
    run.log_model(make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X_train, y_train),
                  input_example=X_train.head(3))
mlops.register_model(run, NAME)
dep = mlops.deploy(NAME, version=1, name=NAME, wait=True)


def logged():
    return len(mlops.backend().serving.predictions(NAME, 10_000))


def wait_logged(n):
    while logged() < n:
        time.sleep(0.1)


# A new scanner measures every size feature 40% larger.
size = [c for c in X.columns if any(w in c for w in ("radius", "perimeter", "area"))]
shifted = X_test.copy()
shifted[size] *= 1.4
answers = [dep.predict(shifted.iloc[i:i + 10]) for i in range(0, len(shifted), 10)]
# Requests the signature refuses: the workers log them for the error rate.
for _ in range(5):
    with contextlib.suppress(Exception):
        dep.predict(X_test.iloc[:2].drop(columns=["mean radius"]))
wait_logged(len(answers) + 5)
labels = [y_test.iloc[i:i + 10].tolist() for i in range(0, len(y_test), 10)]
print("feedback", mlops.log_feedback(dep, [a["request_id"] for a in answers], labels))

mlops.set_alert_rules(NAME, [
    {"kind": "drift_share", "threshold": 0.25,
     "action": {"type": "retrain", "notebook": TRAIN,
                "parameters": {"experiment": "alerts-retrain", "C": 0.3}}},
    {"kind": "column_drift", "column": "mean radius", "rows": 50, "cooldown": "1h"},
    {"kind": "error_rate", "threshold": 0.05},
    {"kind": "latency_p99", "threshold": 60000, "window": "15m"},
])
fired = mlops.evaluate_alerts(NAME, wait=True)
print("fired", sorted(a["kind"] for a in fired))
retrain = next(a for a in fired if a["kind"] == "drift_share")["data"]["retrain"]
print("retrain", retrain["status"], retrain.get("error"))

# Calm traffic again: the newest 50 rows of "mean radius" look like training data.
calm = [dep.predict(X_test.iloc[i:i + 10]) for i in range(0, 60, 10)]
wait_logged(len(answers) + 5 + len(calm))
changed = mlops.evaluate_alerts(NAME, wait=True)
print("changed", sorted((a["kind"], a["status"]) for a in changed))
print("seeded", NAME)
`;

/** A close-up of the left sidebar's tabs (the icon badge), light and dark. */
async function badgeShot(
  page: IJupyterLabPageFixture,
  testInfo: Parameters<typeof screenshot>[1],
  name: string
): Promise<void> {
  const box = (await page.locator('.jp-SideBar.jp-mod-left').boundingBox())!;
  const clip = { x: box.x, y: box.y, width: 160, height: 240 };
  for (const suffix of ['', '-dark']) {
    if (suffix) {
      await page.theme.setDarkTheme();
    }
    const file = path.join(
      __dirname,
      '..',
      'test-results',
      'screenshots',
      `${name}${suffix}.png`
    );
    await page.screenshot({ path: file, clip });
    await testInfo.attach(`${name}${suffix}`, {
      path: file,
      contentType: 'image/png'
    });
  }
  await page.theme.setLightTheme();
}

/** Scroll an element to the top of its scrolling ancestor, for a screenshot. */
async function scrollTo(locator: Locator): Promise<void> {
  await locator.evaluate(el => el.scrollIntoView({ block: 'start' }));
}

/** The messages of the current JupyterLab notifications about the deployment. */
async function alertNotifications(
  page: IJupyterLabPageFixture
): Promise<string[]> {
  return (await page.notifications)
    .map(n => n.message)
    .filter(m => m.startsWith(`${DEPLOYMENT}:`))
    .sort();
}

test.describe.configure({ mode: 'serial' });
// The real Jupyter identity (not Galata's mock): the server records who
// acknowledged under it, and the panel shows "you" for it.
test.use({ mockUser: false });

test('alerts: panel section, icon badge, notifications, acknowledge, rules table and a refused rule', async ({
  page,
  tmpPath
}, testInfo) => {
  test.setTimeout(400000);
  const consoleErrors = collectMlopsConsoleErrors(page);
  const panelTab = page.locator(PANEL_TAB);

  // Before any rule: no badge, and the empty state says how to add rules.
  await openPanel(page);
  await page.sidebar.setWidth(480, 'left');
  const section = page.locator(`${PANEL} .mlops-AlertsSection`);
  await expect(section.locator('.mlops-EmptyAlerts')).toContainText(
    'No open alerts.'
  );
  await expect(section.locator('.mlops-EmptyAlerts .mlops-Snippet')).toHaveText(
    /mlops\.set_alert_rules\(".+", \[\{"kind": "drift_share", "threshold": 0\.3\}\]\)/
  );
  await expect(panelTab).not.toHaveAttribute('data-alerts');
  await collapseSection(page, 'Experiments');
  await collapseSection(page, 'Runs');
  await collapseSection(page, 'Models');
  await screenshotBothThemes(page, testInfo, '40-alerts-empty');

  // Seed with the panel hidden: its alerts still poll (badge, notifications).
  await page.sidebar.openTab('filebrowser');
  await page.contents.uploadContent(
    SEED_SCRIPT,
    'text',
    `${tmpPath}/seed_alerts.py`
  );
  const output = await runSeedCell(
    page,
    'alerts.ipynb',
    '%run seed_alerts.py',
    `seeded ${DEPLOYMENT}`
  );
  await expect(output).toContainText(
    "fired ['column_drift', 'drift_share', 'error_rate']"
  );
  await expect(output).toContainText('retrain succeeded None');
  await expect(output).toContainText("changed [('column_drift', 'resolved')]");

  // Two alerts are firing: the icon badge counts them while the panel is hidden.
  await expect(panelTab).toHaveAttribute('data-alerts', '2', {
    timeout: 30000
  });
  await expect(panelTab).toHaveAttribute('title', 'MLOps: 2 firing alerts');
  // One notification per firing alert (the resolved one's, if it showed, is gone).
  // (Polls during the seeding may have seen the column alert firing: its
  // notification goes when it resolves.)
  await expect
    .poll(() => alertNotifications(page))
    .toEqual([
      expect.stringMatching(
        /^cancer-alerts: dataset drift alert: \d+% of columns drifted over 1h/
      ),
      expect.stringMatching(
        /^cancer-alerts: error rate alert: [\d.]+% of \d+ requests refused over 1h/
      )
    ]);
  const driftToast = page.locator(TOAST, {
    hasText: `${DEPLOYMENT}: dataset drift alert`
  });
  await expect(driftToast).toBeVisible();
  await expect(
    page.locator(TOAST, { hasText: `${DEPLOYMENT}: error rate alert` })
  ).toBeVisible();
  await expect(page.locator(TOAST)).toHaveCount(2);
  await screenshotBothThemes(page, testInfo, '41-alerts-notifications');
  await badgeShot(page, testInfo, '41-alerts-icon-badge');

  // "Open" on a notification opens the deployment's tab.
  await driftToast.getByRole('button', { name: 'Open' }).click();
  const tab = page.locator(TAB);
  await expect(tab.locator('.mlops-DeploymentTitle')).toHaveText(DEPLOYMENT);

  // The panel's Alerts section: both firing, each with its facts.
  await openPanel(page);
  await expect(
    page.locator(`${PANEL} .jp-AccordionPanel-title`, { hasText: 'Alerts' })
  ).toContainText('Alerts · 2 firing');
  const openItems = `.mlops-AlertList[aria-label="Open alerts"] .mlops-AlertItem[data-deployment="${DEPLOYMENT}"]`;
  const open = section.locator(openItems);
  await expect(open).toHaveCount(2);
  const drift = section.locator(`${openItems}[data-kind="drift_share"]`);
  const errors = section.locator(`${openItems}[data-kind="error_rate"]`);
  await expect(drift.locator('.mlops-StatusChip').first()).toHaveText('firing');
  await expect(drift.locator('.mlops-AlertKind')).toHaveText('dataset drift');
  await expect(drift.locator('.mlops-AlertMessage')).toContainText(
    'of columns drifted over 1h'
  );
  await expect(drift.locator('.mlops-AlertAge')).toHaveText(/just now|min ago/);
  // The retraining the rule ran: candidate, validation, output notebook.
  const retrain = drift.locator('.mlops-Retrain');
  await expect(retrain).toHaveAttribute('data-status', 'succeeded');
  await expect(retrain.locator('.mlops-RetrainHeadline')).toHaveText(
    /^retrained in \d+ s$/
  );
  await expect(retrain.locator('.mlops-RetrainCandidate')).toHaveText(
    `${DEPLOYMENT} v2`
  );
  await expect(retrain.locator('.mlops-RetrainValidation')).toHaveText(
    /validation (passed|failed) on labelled live traffic \(171 rows\)/
  );
  await expect(retrain.locator('.mlops-RetrainNotebook code')).toHaveText(
    /retrain\/[0-9a-f]+\/output\.ipynb$/
  );
  await expect(errors.locator('.mlops-AlertMessage')).toHaveText(
    '17.2% of 29 requests refused over 1h (threshold 5.0%)'
  );
  await expect(errors.locator('.mlops-AlertMeta')).toContainText(
    'value 17% · threshold 5%'
  );
  // The deployment's row counts its firing alerts.
  await expect(
    page.locator(
      `${PANEL} .mlops-DeploymentRow[data-deployment="${DEPLOYMENT}"] .mlops-AlertCountBadge`
    )
  ).toHaveText('● 2');
  await scrollTo(page.locator(`${PANEL} .mlops-AlertsSection`));
  await screenshotBothThemes(page, testInfo, '42-alerts-panel');

  // The candidate link opens the model version tab.
  await retrain.locator('.mlops-RetrainCandidate').click();
  await expect(
    page.locator(VERSION_TAB).locator('.mlops-VersionTitle')
  ).toContainText(`${DEPLOYMENT}`);
  await expect(
    page.locator(VERSION_TAB).locator('.mlops-VersionTitle')
  ).toContainText('v2');

  // Acknowledge the error-rate alert: its status, the badge, its notification.
  await errors.locator('.mlops-AckButton').click();
  await expect(errors).toHaveAttribute('data-status', 'acknowledged');
  await expect(errors.locator('.mlops-AckButton')).toHaveCount(0);
  await expect(errors.locator('.mlops-AlertAcknowledged')).toHaveText(
    'acknowledged by you just now'
  );
  await expect(panelTab).toHaveAttribute('data-alerts', '1');
  await expect(panelTab).toHaveAttribute('title', 'MLOps: 1 firing alert');
  await expect(
    page.locator(`${PANEL} .jp-AccordionPanel-title`, { hasText: 'Alerts' })
  ).toContainText('Alerts · 1 firing');
  await expect(
    page.locator(TOAST, { hasText: `${DEPLOYMENT}: error rate alert` })
  ).toHaveCount(0);
  await expect(
    page.locator(
      `${PANEL} .mlops-DeploymentRow[data-deployment="${DEPLOYMENT}"] .mlops-AlertCountBadge`
    )
  ).toHaveText('● 1');
  // Firing first, then acknowledged.
  await expect(open.first()).toHaveAttribute('data-kind', 'drift_share');

  // Resolved alerts behind the toggle.
  const resolved = section.locator('.mlops-ResolvedAlerts .mlops-AlertItem');
  await expect(resolved).toHaveCount(0);
  await section.locator('.mlops-ShowResolved input').check();
  await expect(resolved).not.toHaveCount(0);
  const columnAlert = section.locator(
    `.mlops-ResolvedAlerts .mlops-AlertItem[data-deployment="${DEPLOYMENT}"][data-kind="column_drift"]`
  );
  await expect(columnAlert).toHaveAttribute('data-status', 'resolved');
  await expect(columnAlert.locator('.mlops-AlertMessage')).toContainText(
    'resolved: column mean radius is stable over the last 50 rows'
  );
  await expect(columnAlert.locator('.mlops-AlertResolved')).toHaveText(
    /^resolved (just now|\d+ min ago)$/
  );
  await expect(section.locator('.mlops-ShowResolved')).toHaveText(
    /Show resolved \(\d+\)/
  );
  await screenshotBothThemes(page, testInfo, '43-alerts-acknowledged-resolved');

  // Clicking an alert opens its deployment's tab.
  await drift.locator('.mlops-AlertMessage').click();
  await expect(tab.locator('.mlops-DeploymentTitle')).toHaveText(DEPLOYMENT);

  // The tab's Monitoring section: the deployment's alerts and its rules.
  const monitoring = tab.locator('.mlops-MonitoringSection');
  const tabAlerts = monitoring.locator(
    '.mlops-DeploymentAlerts .mlops-AlertItem'
  );
  await expect(tabAlerts).toHaveCount(2);
  await expect(tabAlerts.first()).toHaveAttribute('data-status', 'firing');
  await expect(tabAlerts.nth(1)).toHaveAttribute('data-status', 'acknowledged');
  await expect(tabAlerts.first().locator('.mlops-AlertDeployment')).toHaveCount(
    0
  );
  const table = monitoring.locator('.mlops-RulesTable');
  await expect(table.locator('tbody tr')).toHaveCount(4);
  await expect(table.locator('.mlops-RuleCondition')).toHaveText([
    'drift share ≥ 25% over 1h',
    'column “mean radius” drifts over the newest 50 rows',
    'p99 latency > 60000 ms over 15m',
    'refused requests > 5% over 1h'
  ]);
  await expect(table.locator('.mlops-RuleKind')).toHaveText([
    'dataset drift',
    'column drift',
    'p99 latency',
    'error rate'
  ]);
  await expect(table.locator('.mlops-RuleCooldown')).toHaveText([
    '30m',
    '1h',
    '30m',
    '30m'
  ]);
  await expect(table.locator('.mlops-RuleAction').first()).toHaveText(
    'retrain train.ipynb (C=0.3, experiment=alerts-retrain)'
  );
  await expect(table.locator('.mlops-RuleWebhook').first()).toHaveText('—');

  // Evaluate now: nothing changes (the drift keeps firing, the column stays calm).
  await monitoring.locator('.mlops-EvaluateButton').click();
  await expect(monitoring.locator('.mlops-Evaluation')).toHaveText(
    'Evaluated: no alert fired or resolved.'
  );
  await expect(panelTab).toHaveAttribute('data-alerts', '1');
  await scrollTo(monitoring.locator('.mlops-AlertsTitle'));
  await screenshotBothThemes(page, testInfo, '44-alerts-tab-rules');

  // A bad rule: the server's 400 names the problem, readably, and nothing is saved.
  await monitoring.locator('.mlops-EditRules').click();
  const editor = monitoring.locator('.mlops-RulesText');
  const saved = JSON.parse(await editor.inputValue()) as Record<string, any>[];
  expect(saved.map(r => r.kind)).toEqual([
    'drift_share',
    'column_drift',
    'latency_p99',
    'error_rate'
  ]);
  expect(saved.every(r => typeof r.id === 'string' && r.id)).toBe(true);
  const bad = saved.map(r =>
    r.kind === 'drift_share' ? { ...r, threshold: 3 } : r
  );
  await editor.fill(JSON.stringify(bad, null, 2));
  await monitoring.locator('.mlops-SaveRules').click();
  const refusal = monitoring.locator('.mlops-RulesError');
  await expect(refusal).toHaveText(
    'Not saved: a drift_share rule needs a threshold in (0, 1] (field threshold)'
  );
  await expect(table.locator('.mlops-RuleCondition').first()).toHaveText(
    'drift share ≥ 25% over 1h'
  );
  await scrollTo(monitoring.locator('.mlops-RulesTitle'));
  await screenshotBothThemes(page, testInfo, '45-alerts-rule-refused');

  // A good change saves (ids kept: the open alert stays with its rule).
  const good = saved.map(r =>
    r.kind === 'latency_p99' ? { ...r, threshold: 30000 } : r
  );
  await editor.fill(JSON.stringify(good, null, 2));
  await monitoring.locator('.mlops-SaveRules').click();
  await expect(monitoring.locator('.mlops-RulesText')).toHaveCount(0);
  await expect(table.locator('.mlops-RuleCondition').nth(2)).toHaveText(
    'p99 latency > 30000 ms over 15m'
  );
  await expect(tabAlerts).toHaveCount(2);

  // A reload neither repeats the notifications nor loses the badge.
  await expect
    .poll(async () =>
      page.evaluate(async key => {
        const answer = await fetch('/lab/api/workspaces/default');
        const workspace = await answer.json();
        return (workspace.data?.[key] ?? []).length;
      }, SEEN_KEY)
    )
    .toBeGreaterThanOrEqual(2);
  // (The restored layout shows the deployment tab, not the launcher Galata
  // waits for by default.)
  await page.reload({ waitForIsReady: false });
  await expect(panelTab).toHaveAttribute('data-alerts', '1', {
    timeout: 30000
  });
  expect(await alertNotifications(page)).toEqual([]);
  await expect(page.locator(TOAST)).toHaveCount(0);

  expect(consoleErrors).toEqual([]);
});
