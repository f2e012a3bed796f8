/**
 * The action commands of the palette and the context menus: register a model from
 * a run, deploy a model version, show a deployment's drift report, compare runs.
 * Each takes its target from its arguments, else from the panel row the context
 * menu was opened on, else from the current tab, else asks.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  showErrorMessage
} from '@jupyterlab/apputils';

import { MlopsClient } from './client';
import { mlopsIcon } from './icons';

export namespace ActionIDs {
  export const registerFromRun = 'mlops:register-model-from-run';
  export const deployVersion = 'mlops:deploy-model-version';
  export const showDrift = 'mlops:show-drift-report';
  export const compareRuns = 'mlops:compare-runs';
  export const compareSelected = 'mlops:compare-selected-runs';
}

/** Where the actions find their targets and what they open afterwards. */
export interface IActionContext {
  client: MlopsClient;
  /** The run of the current run tab, if any. */
  currentRunId: () => string | null;
  /** The model version of the current version tab, if any. */
  currentVersion: () => { name: string; version: number } | null;
  /** The deployment of the current deployment tab, if any. */
  currentDeployment: () => string | null;
  /** The runs ticked in the panel. */
  selectedRunIds: () => ReadonlyArray<string>;
  openModelVersion: (name: string, version: number) => Promise<unknown>;
  openDeployment: (name: string) => Promise<unknown>;
  /** Show a deployment tab's monitoring (drift) section. */
  showDrift: (name: string) => Promise<unknown>;
  compareRuns: (runIds: string[]) => Promise<unknown>;
  /** After a registration or a deployment: refresh the panel. */
  changed: () => void;
}

/** The `data-*` value of the element (or an ancestor) the context menu opened on. */
function contextValue(
  app: JupyterFrontEnd,
  attribute: string
): string | undefined {
  const node = app.contextMenuHitTest(
    el => el instanceof HTMLElement && el.dataset[attribute] !== undefined
  );
  return node?.dataset[attribute];
}

/** The message of an API error (its JSON body's `message`), never raw JSON. */
function reportError(title: string, reason: unknown): void {
  const message = reason instanceof Error ? reason.message : String(reason);
  void showErrorMessage(title, message);
}

/** Ask for one of `items`; `null` when cancelled. */
async function pickOne(
  title: string,
  label: string,
  items: string[],
  okLabel?: string
): Promise<string | null> {
  const answer = await InputDialog.getItem({ title, label, items, okLabel });
  return answer.button.accept && answer.value ? answer.value : null;
}

/** Add the action commands, to the palette and to the panel's context menus. */
export function addActionCommands(
  app: JupyterFrontEnd,
  context: IActionContext,
  palette: ICommandPalette | null
): void {
  const { commands } = app;

  commands.addCommand(ActionIDs.registerFromRun, {
    label: args =>
      args['isPalette'] ? 'MLOps: Register model from run' : 'Register model…',
    caption:
      'Register the model a run logged as the next version of a registered model',
    icon: args => (args['isPalette'] ? undefined : mlopsIcon),
    execute: async args => {
      const runId =
        (args['runId'] as string | undefined) ??
        contextValue(app, 'runId') ??
        context.currentRunId();
      if (!runId) {
        await showErrorMessage(
          'Register model from run',
          'Open a run (or right-click one in the MLOps panel) first.'
        );
        return;
      }
      let name = args['name'] as string | undefined;
      if (!name) {
        let suggestion = '';
        try {
          const run = await context.client.run(runId);
          suggestion = run.experiment_name ?? '';
        } catch {
          // The dialog still asks; registration reports a missing run.
        }
        const answer = await InputDialog.getText({
          title: `Register the model of run ${runId.slice(0, 8)}`,
          label: 'Registered model name',
          text: suggestion,
          placeholder: 'e.g. churn',
          okLabel: 'Register'
        });
        if (!answer.button.accept || !answer.value?.trim()) {
          return;
        }
        name = answer.value.trim();
      }
      try {
        const version = await context.client.registerModel(
          name,
          runId,
          (args['modelPath'] as string | undefined) ?? 'model'
        );
        context.changed();
        await context.openModelVersion(version.name, version.version);
        return version;
      } catch (reason) {
        reportError(`Cannot register run ${runId.slice(0, 8)}`, reason);
      }
    }
  });

  commands.addCommand(ActionIDs.deployVersion, {
    label: args =>
      args['isPalette'] ? 'MLOps: Deploy model version' : 'Deploy…',
    caption: 'Serve a model version as a REST endpoint (staging or production)',
    icon: args => (args['isPalette'] ? undefined : mlopsIcon),
    execute: async args => {
      let name = args['name'] as string | undefined;
      let version = args['version'] as number | string | undefined;
      if (!name) {
        const model = contextValue(app, 'model');
        const row = contextValue(app, 'version');
        const current = context.currentVersion();
        if (model && row) {
          name = model;
          version = Number(row);
        } else if (current) {
          name = current.name;
          version = current.version;
        }
      }
      if (!name) {
        const models = await context.client.listModels().catch(() => []);
        if (!models.length) {
          await showErrorMessage(
            'Deploy model version',
            'No registered models yet: register one from a run first.'
          );
          return;
        }
        const pick = await pickOne(
          'Deploy model version',
          'Model (its latest version)',
          models.map(m => m.name)
        );
        if (!pick) {
          return;
        }
        name = pick;
      }
      let environment = args['environment'] as string | undefined;
      if (!environment) {
        const pick = await pickOne(
          `Deploy ${name}${version !== undefined ? ` v${version}` : ''}`,
          'Environment',
          ['staging', 'production'],
          'Deploy'
        );
        if (!pick) {
          return;
        }
        environment = pick;
      }
      try {
        const deployment = await context.client.deploy({
          model: name,
          version,
          environment: environment as 'staging' | 'production'
        });
        context.changed();
        await context.openDeployment(deployment.name);
        return deployment;
      } catch (reason) {
        reportError(`Cannot deploy ${name}`, reason);
      }
    }
  });

  commands.addCommand(ActionIDs.showDrift, {
    label: args =>
      args['isPalette'] ? 'MLOps: Show drift report' : 'Show drift report',
    caption: "Open a deployment's drift heatmap, distributions and performance",
    icon: args => (args['isPalette'] ? undefined : mlopsIcon),
    execute: async args => {
      let name =
        (args['name'] as string | undefined) ??
        contextValue(app, 'deployment') ??
        context.currentDeployment() ??
        undefined;
      if (!name) {
        const deployments = await context.client
          .listDeployments()
          .catch(() => []);
        const active = deployments.filter(d => d.status === 'active');
        if (!active.length) {
          await showErrorMessage(
            'Show drift report',
            'No active deployments: deploy a model version first.'
          );
          return;
        }
        if (active.length === 1) {
          name = active[0].name;
        } else {
          const pick = await pickOne(
            'Show drift report',
            'Deployment',
            active.map(d => d.name)
          );
          if (!pick) {
            return;
          }
          name = pick;
        }
      }
      return context.showDrift(name);
    }
  });

  commands.addCommand(ActionIDs.compareRuns, {
    label: args => {
      const ids = args['runIds'] as string[] | undefined;
      return ids?.length
        ? `MLOps: Compare ${ids.length} runs`
        : 'MLOps: Compare runs';
    },
    caption:
      'Parallel coordinates, overlaid metric histories and a diff table of runs (args: {"runIds": [...]})',
    execute: async args => {
      const ids = (args['runIds'] as string[] | undefined) ?? [
        ...context.selectedRunIds()
      ];
      if (ids.length < 2) {
        await showErrorMessage(
          'Compare runs',
          'Tick at least two runs in the MLOps panel (or pass runIds).'
        );
        return;
      }
      return context.compareRuns(ids);
    }
  });

  commands.addCommand(ActionIDs.compareSelected, {
    label: () => {
      const n = context.selectedRunIds().length;
      return n >= 2 ? `Compare ${n} ticked runs` : 'Compare ticked runs';
    },
    caption: 'Compare the runs ticked in the MLOps panel',
    isEnabled: () => context.selectedRunIds().length >= 2,
    execute: () => context.compareRuns([...context.selectedRunIds()])
  });

  // Context menus of the panel's rows.
  const menus: [string, string, number][] = [
    ['.mlops-RunRow[data-run-id]', 'mlops:open-run-here', 1],
    ['.mlops-RunRow[data-run-id]', ActionIDs.registerFromRun, 2],
    ['.mlops-RunRow[data-run-id]', ActionIDs.compareSelected, 3],
    ['.mlops-VersionRow[data-version]', ActionIDs.deployVersion, 1],
    ['.mlops-DeploymentRow[data-deployment]', ActionIDs.showDrift, 1]
  ];
  commands.addCommand('mlops:open-run-here', {
    label: 'Open run',
    execute: () => {
      const runId = contextValue(app, 'runId');
      return runId ? commands.execute('mlops:open-run', { runId }) : undefined;
    }
  });
  for (const [selector, command, rank] of menus) {
    app.contextMenu.addItem({ selector, command, rank });
  }

  if (palette) {
    for (const command of [
      ActionIDs.registerFromRun,
      ActionIDs.deployVersion,
      ActionIDs.showDrift,
      ActionIDs.compareRuns
    ]) {
      palette.addItem({
        command,
        category: 'MLOps',
        args: { isPalette: true }
      });
    }
  }
}
