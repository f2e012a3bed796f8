/**
 * mlops-jlab: the MLOps side panel and run detail tabs.
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
  WidgetTracker
} from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { MessageLoop } from '@lumino/messaging';

import { MlopsClient } from './client';
import { mlopsIcon } from './icons';
import { MlopsModel } from './model';
import { createPanel, PANEL_ID } from './panel';
import { RunDetailWidget } from './rundetail';

const PLUGIN_ID = 'mlops-jlab:plugin';

export namespace CommandIDs {
  export const openPanel = 'mlops:open-panel';
  export const refresh = 'mlops:refresh';
  export const openRun = 'mlops:open-run';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Notebook-native MLOps: experiments and runs side panel, run details.',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette, ISettingRegistry, IThemeManager],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    themeManager: IThemeManager | null
  ) => {
    const client = new MlopsClient({
      serverSettings: app.serviceManager.serverSettings
    });
    let refreshInterval = 5;

    // The panel polls only while it is visible (plus once at start).
    let panelVisible = () => false;
    const model = new MlopsModel({
      client,
      refreshInterval,
      pageSize: 50,
      isActive: () => panelVisible()
    });

    const tracker = new WidgetTracker<MainAreaWidget<RunDetailWidget>>({
      namespace: 'mlops-run'
    });

    tracker.currentChanged.connect((_, widget) => {
      model.setCurrentRun(widget?.content.runId ?? null);
    });

    const openRun = async (runId: string) => {
      const existing = tracker.find(w => w.content.runId === runId);
      if (existing) {
        app.shell.activateById(existing.id);
        void existing.content.refresh();
        return existing;
      }
      const content = new RunDetailWidget({
        runId,
        client,
        commands: app.commands,
        refreshInterval: () => refreshInterval,
        themeChanged: themeManager?.themeChanged ?? null
      });
      const widget = new MainAreaWidget({ content });
      widget.id = `mlops-run-${runId}`;
      widget.addClass('mlops-RunDetailTab');
      widget.title.icon = mlopsIcon;
      widget.title.label = `Run ${runId.slice(0, 8)}`;
      widget.title.closable = true;
      await tracker.add(widget);
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      return widget;
    };

    const panel = createPanel(model, runId => void openRun(runId));
    panelVisible = () => panel.isVisible;
    app.shell.add(panel, 'left', { rank: 650 });
    if (restorer) {
      restorer.add(panel, PANEL_ID);
      void restorer.restore(tracker, {
        command: CommandIDs.openRun,
        args: w => ({ runId: w.content.runId }),
        name: w => w.content.runId
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
      caption: 'Show the MLOps side panel (experiments and runs)',
      icon: args => (args['isPalette'] ? undefined : mlopsIcon),
      execute: () => {
        app.shell.activateById(PANEL_ID);
        void model.refresh();
      }
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'MLOps: Refresh',
      caption: 'Reload experiments, runs and open run tabs',
      execute: async () => {
        await model.refresh();
        const tabs: Promise<void>[] = [];
        tracker.forEach(w => tabs.push(w.content.refresh()));
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
    if (palette) {
      palette.addItem({ command: CommandIDs.openPanel, category: 'MLOps' });
      palette.addItem({ command: CommandIDs.refresh, category: 'MLOps' });
    }

    if (settingRegistry) {
      const apply = (settings: ISettingRegistry.ISettings) => {
        const interval = Number(settings.get('refreshInterval').composite);
        const maxRuns = Number(settings.get('maxRuns').composite);
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
        })
        .catch(reason => {
          console.warn('mlops-jlab: cannot load settings', reason);
        });
    }

    void app.restored.then(() => model.start());
  }
};

export default plugin;
