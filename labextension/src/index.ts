/**
 * mlops-jlab: the MLOps side panel, run detail, model version and deployment tabs.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IThemeManager,
  MainAreaWidget,
  ReactWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { MessageLoop } from '@lumino/messaging';

import { ActionIDs, addActionCommands } from './actions';
import { AlertNotifier } from './alertnotifier';
import { MlopsClient } from './client';
import { sameRunSet, uniqueRunIds } from './compare';
import { CompareRunsWidget, compareTabLabel } from './compareview';
import { DeploymentWidget } from './deployment';
import { mlopsIcon } from './icons';
import { MlopsModel } from './model';
import { ModelVersionWidget } from './modelversion';
import { NotebookSnapshotWidget } from './notebooksnapshot';
import {
  createPanel,
  PANEL_ID,
  SCHEDULES_SECTION_ID,
  showSection
} from './panel';
import { formatVersion } from './registry';
import { RunDetailWidget } from './rundetail';
import { snapshotLabel } from './runfamily';
import { addScheduleCommands } from './schedulecommands';

const PLUGIN_ID = 'mlops-jlab:plugin';

export namespace CommandIDs {
  export const openPanel = 'mlops:open-panel';
  export const refresh = 'mlops:refresh';
  export const openRun = 'mlops:open-run';
  export const openModelVersion = 'mlops:open-model-version';
  export const openDeployment = 'mlops:open-deployment';
  export const openNotebookSnapshot = 'mlops:open-notebook-snapshot';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Notebook-native MLOps: experiments, runs, models, promotions, deployments, alerts, schedules and audit side panel; run, model version and deployment tabs; alert notifications.',
  autoStart: true,
  optional: [
    ILayoutRestorer,
    ICommandPalette,
    ISettingRegistry,
    IThemeManager,
    IStateDB
  ],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    themeManager: IThemeManager | null,
    state: IStateDB | null
  ) => {
    const client = new MlopsClient({
      serverSettings: app.serviceManager.serverSettings
    });
    let refreshInterval = 5;

    /**
     * Who the server records actions under: the mlops user of `GET me` (behind
     * Jupyter's shared token that is the server's local user, not Jupyter's
     * made-up "Anonymous" identity), else the Jupyter user name.
     */
    let mlopsUser: () => string | null = () => null;
    const currentUser = () =>
      mlopsUser() ?? app.serviceManager.user?.identity?.username ?? null;

    // The panel polls only while it is visible (plus once at start); its
    // alerts poll always (icon badge, notifications).
    let panelVisible = () => false;
    const model = new MlopsModel({
      client,
      refreshInterval,
      pageSize: 50,
      isActive: () => panelVisible(),
      currentUser
    });

    mlopsUser = () => model.governance.me?.user ?? null;

    const tracker = new WidgetTracker<MainAreaWidget<RunDetailWidget>>({
      namespace: 'mlops-run'
    });

    tracker.currentChanged.connect((_, widget) => {
      model.setCurrentRun(widget?.content.runId ?? null);
    });

    /**
     * Show the tab whose content matches (and refresh it), or else create one with
     * the given id, CSS class and first label, and show it.
     */
    const openTab = async <
      T extends ReactWidget & { refresh(): Promise<void> }
    >(
      widgetTracker: WidgetTracker<MainAreaWidget<T>>,
      matches: (content: T) => boolean,
      create: () => T,
      tab: { id: string; className: string; label: string }
    ): Promise<MainAreaWidget<T>> => {
      const existing = widgetTracker.find(w => matches(w.content));
      if (existing) {
        app.shell.activateById(existing.id);
        void existing.content.refresh();
        return existing;
      }
      const widget = new MainAreaWidget<T>({ content: create() });
      widget.id = tab.id;
      widget.addClass(tab.className);
      widget.title.icon = mlopsIcon;
      widget.title.label = tab.label;
      widget.title.closable = true;
      await widgetTracker.add(widget);
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      return widget;
    };

    const openRun = (runId: string) =>
      openTab(
        tracker,
        content => content.runId === runId,
        () =>
          new RunDetailWidget({
            runId,
            client,
            commands: app.commands,
            refreshInterval: () => refreshInterval,
            themeChanged: themeManager?.themeChanged ?? null
          }),
        {
          id: `mlops-run-${runId}`,
          className: 'mlops-RunDetailTab',
          label: `Run ${runId.slice(0, 8)}`
        }
      );

    const versionTracker = new WidgetTracker<
      MainAreaWidget<ModelVersionWidget>
    >({
      namespace: 'mlops-model-version'
    });
    versionTracker.currentChanged.connect((_, widget) => {
      model.setCurrentModelVersion(
        widget
          ? { name: widget.content.modelName, version: widget.content.version }
          : null
      );
    });

    /** After an alias or archive change: the panel and the model's other tabs. */
    const onVersionChanged = (changed: ModelVersionWidget) => {
      void model.refresh();
      versionTracker.forEach(w => {
        if (
          w.content !== changed &&
          w.content.modelName === changed.modelName
        ) {
          void w.content.refresh();
        }
      });
    };

    const openModelVersion = (name: string, version: number) =>
      openTab(
        versionTracker,
        content => content.modelName === name && content.version === version,
        () =>
          new ModelVersionWidget({
            name,
            version,
            client,
            commands: app.commands,
            refreshInterval: () => refreshInterval,
            onChanged: onVersionChanged,
            governance: model.governance,
            themeChanged: themeManager?.themeChanged ?? null
          }),
        {
          id: `mlops-model-version-${encodeURIComponent(name)}-${version}`,
          className: 'mlops-ModelVersionTab',
          label: `${name} ${formatVersion(version)}`
        }
      );

    // A promotion decided or requested: the model's tabs show the new aliases.
    model.governance.promotionChanged.connect((_, promotion) => {
      versionTracker.forEach(w => {
        if (w.content.modelName === promotion.model) {
          void w.content.refresh();
        }
      });
    });

    const deploymentTracker = new WidgetTracker<
      MainAreaWidget<DeploymentWidget>
    >({
      namespace: 'mlops-deployment'
    });
    deploymentTracker.currentChanged.connect((_, widget) => {
      model.setCurrentDeployment(widget?.content.deploymentName ?? null);
    });

    const openDeployment = (name: string) =>
      openTab(
        deploymentTracker,
        content => content.deploymentName === name,
        () =>
          new DeploymentWidget({
            name,
            client,
            commands: app.commands,
            refreshInterval: () => refreshInterval,
            // Traffic, rollback or stop: the panel's row changes too.
            onChanged: () => void model.refreshDeployments(),
            // Acknowledged or evaluated here: the panel's alerts and counts follow.
            onAlertsChanged: () => {
              void model.alerts.refresh();
              void model.refreshDeployments();
            },
            currentUser,
            governance: model.governance
          }),
        {
          id: `mlops-deployment-${encodeURIComponent(name)}`,
          className: 'mlops-DeploymentTab',
          label: `Deployment ${name}`
        }
      );

    const compareTracker = new WidgetTracker<MainAreaWidget<CompareRunsWidget>>(
      {
        namespace: 'mlops-compare'
      }
    );
    const compareRuns = (ids: string[]) => {
      const runIds = uniqueRunIds(ids);
      const key = [...runIds].sort().join(',');
      return openTab(
        compareTracker,
        content => sameRunSet(content.runIds, runIds),
        () =>
          new CompareRunsWidget({
            runIds,
            client,
            commands: app.commands,
            refreshInterval: () => refreshInterval,
            themeChanged: themeManager?.themeChanged ?? null
          }),
        {
          id: `mlops-compare-${key.replace(/,/g, '-').slice(0, 200)}`,
          className: 'mlops-CompareTab',
          label: compareTabLabel(runIds)
        }
      );
    };

    const snapshotTracker = new WidgetTracker<
      MainAreaWidget<NotebookSnapshotWidget>
    >({ namespace: 'mlops-notebook-snapshot' });
    /**
     * The notebook as a run stored it, or one of its notebook artifacts (read-only,
     * rendered by the server).
     */
    const openNotebookSnapshot = (
      runId: string,
      path: string | null,
      artifact: string | null = null
    ) =>
      openTab(
        snapshotTracker,
        content => content.runId === runId && content.artifact === artifact,
        () =>
          new NotebookSnapshotWidget({
            runId,
            path,
            artifact,
            client,
            commands: app.commands
          }),
        {
          id: `mlops-notebook-snapshot-${runId}${
            artifact ? `-${encodeURIComponent(artifact)}` : ''
          }`,
          className: 'mlops-NotebookSnapshotTab',
          label: snapshotLabel(runId, path, artifact)
        }
      );

    /** A deployment's tab, scrolled to its monitoring (drift) section. */
    const showDrift = async (name: string) => {
      const widget = await openDeployment(name);
      await widget.content.refresh();
      const section = widget.node.querySelector('.mlops-MonitoringSection');
      section?.scrollIntoView({ block: 'start' });
      return widget;
    };

    const scheduleActions = addScheduleCommands(
      app,
      {
        client,
        schedules: model.schedules,
        openRun: runId => void openRun(runId),
        showSchedules: () => {
          app.shell.activateById(PANEL_ID);
          showSection(panel, SCHEDULES_SECTION_ID);
        }
      },
      palette
    );

    const panel = createPanel(
      model,
      runId => void openRun(runId),
      (name, version) => void openModelVersion(name, version),
      name => void openDeployment(name),
      runIds => void app.commands.execute(ActionIDs.compareRuns, { runIds }),
      scheduleActions
    );
    panelVisible = () => panel.isVisible;
    app.shell.add(panel, 'left', { rank: 650 });

    // Firing alerts: a badge on the panel's icon and a notification each.
    new AlertNotifier({
      alerts: model.alerts,
      title: panel.title,
      state,
      openDeployment: name => void openDeployment(name),
      openPanel: () => {
        app.shell.activateById(PANEL_ID);
        void model.refresh();
      }
    });
    // An alert acknowledged in the panel (or changed elsewhere): the open
    // deployment tabs show it too.
    model.alerts.changed.connect(() => {
      deploymentTracker.forEach(w => void w.content.alerts.refresh());
    });
    if (restorer) {
      restorer.add(panel, PANEL_ID);
      void restorer.restore(tracker, {
        command: CommandIDs.openRun,
        args: w => ({ runId: w.content.runId }),
        name: w => w.content.runId
      });
      void restorer.restore(versionTracker, {
        command: CommandIDs.openModelVersion,
        args: w => ({ name: w.content.modelName, version: w.content.version }),
        name: w => `${w.content.modelName}/${w.content.version}`
      });
      void restorer.restore(deploymentTracker, {
        command: CommandIDs.openDeployment,
        args: w => ({ name: w.content.deploymentName }),
        name: w => w.content.deploymentName
      });
      void restorer.restore(snapshotTracker, {
        command: CommandIDs.openNotebookSnapshot,
        args: w => ({
          runId: w.content.runId,
          path: w.content.path,
          artifact: w.content.artifact
        }),
        name: w =>
          w.content.artifact
            ? `${w.content.runId}/${w.content.artifact}`
            : w.content.runId
      });
      void restorer.restore(compareTracker, {
        command: ActionIDs.compareRuns,
        args: w => ({ runIds: [...w.content.runIds] }),
        name: w => [...w.content.runIds].sort().join(',')
      });
    }
    // Refresh as soon as the panel is shown again (polling pauses while hidden).
    MessageLoop.installMessageHook(panel, (_handler, msg) => {
      if (msg.type === 'after-show') {
        void model.refresh();
      }
      return true;
    });

    app.commands.addCommand(CommandIDs.openPanel, {
      label: 'MLOps: Open panel',
      caption: 'Show the MLOps side panel (experiments, runs and models)',
      icon: args => (args['isPalette'] ? undefined : mlopsIcon),
      execute: () => {
        app.shell.activateById(PANEL_ID);
        void model.refresh();
      }
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'MLOps: Refresh',
      caption:
        'Reload experiments, runs, models, deployments, alerts and open tabs',
      execute: async () => {
        await model.refresh();
        const tabs: Promise<void>[] = [];
        tracker.forEach(w => tabs.push(w.content.refresh()));
        versionTracker.forEach(w => tabs.push(w.content.refresh()));
        deploymentTracker.forEach(w => tabs.push(w.content.refresh()));
        compareTracker.forEach(w => tabs.push(w.content.refresh()));
        snapshotTracker.forEach(w => tabs.push(w.content.refresh()));
        await Promise.all(tabs);
      }
    });
    app.commands.addCommand(CommandIDs.openRun, {
      label: args =>
        args['runId'] ? `MLOps: Open run ${args['runId']}` : 'MLOps: Open run',
      caption: 'Open the detail tab of a run (args: {"runId": "…"})',
      execute: async args => {
        const runId = args['runId'] as string | undefined;
        if (!runId) {
          throw new Error('mlops:open-run needs a runId argument');
        }
        return openRun(runId);
      }
    });
    app.commands.addCommand(CommandIDs.openModelVersion, {
      label: args =>
        args['name']
          ? `MLOps: Open model ${args['name']} ${args['version'] ?? ''}`.trim()
          : 'MLOps: Open model version',
      caption:
        'Open the tab of a model version (args: {"name": "…", "version": 3 or "production"})',
      execute: async args => {
        const name = args['name'] as string | undefined;
        const ref = args['version'] as number | string | undefined;
        if (!name || ref === undefined || ref === null || ref === '') {
          throw new Error(
            'mlops:open-model-version needs name and version arguments'
          );
        }
        // A version number, or an alias such as "production".
        const version = /^\d+$/.test(String(ref))
          ? Number(ref)
          : (await client.getVersion(name, String(ref))).version;
        return openModelVersion(name, version);
      }
    });
    app.commands.addCommand(CommandIDs.openNotebookSnapshot, {
      label: 'MLOps: Open the notebook as the run saw it',
      caption:
        'The notebook a run stored, or one of its notebook artifacts, read-only (args: {"runId": "…", "path": "… or null", "artifact": "output/x.ipynb or null"})',
      execute: async args => {
        const runId = args['runId'] as string | undefined;
        if (!runId) {
          throw new Error(
            'mlops:open-notebook-snapshot needs a runId argument'
          );
        }
        const path =
          typeof args['path'] === 'string' && args['path']
            ? args['path']
            : null;
        const artifact =
          typeof args['artifact'] === 'string' && args['artifact']
            ? args['artifact']
            : null;
        return openNotebookSnapshot(runId, path, artifact);
      }
    });
    app.commands.addCommand(CommandIDs.openDeployment, {
      label: args =>
        args['name']
          ? `MLOps: Open deployment ${args['name']}`
          : 'MLOps: Open deployment',
      caption: 'Open the tab of a deployment (args: {"name": "…"})',
      execute: async args => {
        const name = args['name'] as string | undefined;
        if (!name) {
          throw new Error('mlops:open-deployment needs a name argument');
        }
        return openDeployment(name);
      }
    });
    if (palette) {
      palette.addItem({ command: CommandIDs.openPanel, category: 'MLOps' });
      palette.addItem({ command: CommandIDs.refresh, category: 'MLOps' });
    }
    addActionCommands(
      app,
      {
        client,
        currentRunId: () => tracker.currentWidget?.content.runId ?? null,
        currentVersion: () => {
          const w = versionTracker.currentWidget;
          return w
            ? { name: w.content.modelName, version: w.content.version }
            : null;
        },
        currentDeployment: () =>
          deploymentTracker.currentWidget?.content.deploymentName ?? null,
        selectedRunIds: () => model.selectedRunIds,
        openModelVersion,
        openDeployment,
        showDrift,
        compareRuns,
        changed: () => void model.refresh()
      },
      palette
    );

    if (settingRegistry) {
      const apply = (settings: ISettingRegistry.ISettings) => {
        const interval = Number(settings.get('refreshInterval').composite);
        const maxRuns = Number(settings.get('maxRuns').composite);
        const defaultExperiment = settings.get('defaultExperiment').composite;
        const columns = settings.get('columns').composite;
        model.setDefaultExperiment(
          typeof defaultExperiment === 'string' ? defaultExperiment : null
        );
        model.setColumns(
          Array.isArray(columns)
            ? columns.filter((c): c is string => typeof c === 'string')
            : null,
          false
        );
        if (Number.isFinite(interval) && interval >= 0) {
          refreshInterval = interval;
          model.setRefreshInterval(interval);
        }
        if (Number.isFinite(maxRuns) && maxRuns > 0) {
          model.setPageSize(maxRuns);
        }
      };
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          apply(settings);
          settings.changed.connect(apply);
          // The column chooser saves its choice as the `columns` setting.
          model.onColumnsChanged = columns => {
            settings.set('columns', columns).catch(reason => {
              console.warn('mlops-jlab: cannot save the columns', reason);
            });
          };
        })
        .catch(reason => {
          console.warn('mlops-jlab: cannot load settings', reason);
        });
    }

    void app.restored.then(() => model.start());
  }
};

export default plugin;
