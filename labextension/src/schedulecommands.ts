/**
 * The commands of schedules: "MLOps: New schedule…", "MLOps: Schedule this
 * notebook…" (palette, file browser and notebook context menus, prefilled with the
 * file), and the row actions of the Schedules section (run now, pause or resume,
 * edit, delete) for its buttons and its context menu.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { MlopsClient, Schedule } from './client';
import { mlopsIcon } from './icons';
import { editSchedule } from './scheduleeditor';
import { IScheduleActions } from './schedules';
import { SchedulesModel } from './schedulesmodel';
import { rootRelative, targetKindOf } from './scheduling';

export namespace ScheduleCommandIDs {
  export const create = 'mlops:new-schedule';
  export const scheduleFile = 'mlops:schedule-file';
  export const runNow = 'mlops:schedule-run-now';
  export const togglePause = 'mlops:schedule-toggle-pause';
  export const edit = 'mlops:schedule-edit';
  export const remove = 'mlops:schedule-delete';
}

export interface IScheduleContext {
  client: MlopsClient;
  schedules: SchedulesModel;
  /** Show the panel's Schedules section (after a schedule was saved). */
  showSchedules: () => void;
  openRun: (runId: string) => void;
}

/** The file browser of the left area, duck-typed (no dependency on its package). */
interface IFileBrowserLike {
  selectedItems(): IterableIterator<{ path: string; type: string }>;
}

function fileBrowser(app: JupyterFrontEnd): IFileBrowserLike | null {
  const shell = app.shell as JupyterFrontEnd.IShell & {
    widgets?: (area?: string) => IterableIterator<Widget>;
  };
  if (typeof shell.widgets !== 'function') {
    return null;
  }
  for (const widget of shell.widgets('left')) {
    const candidate = widget as unknown as Partial<IFileBrowserLike>;
    if (
      widget.id === 'filebrowser' &&
      typeof candidate.selectedItems === 'function'
    ) {
      return candidate as IFileBrowserLike;
    }
  }
  return null;
}

/** The first file selected in the file browser that a schedule can run. */
function selectedFile(app: JupyterFrontEnd): string | null {
  const browser = fileBrowser(app);
  if (!browser) {
    return null;
  }
  try {
    for (const item of browser.selectedItems()) {
      if (item.type !== 'directory' && targetKindOf(item.path)) {
        return rootRelative(item.path);
      }
    }
  } catch {
    // no listing yet
  }
  return null;
}

/** The path of the main area's current document, if a schedule can run it. */
function currentDocument(app: JupyterFrontEnd): string | null {
  const widget = app.shell.currentWidget as
    (Widget & { context?: { path?: unknown } }) | null;
  const path = widget?.context?.path;
  return typeof path === 'string' && targetKindOf(path)
    ? rootRelative(path)
    : null;
}

/**
 * The file a new schedule runs: the file browser's selection when the command came
 * from its context menu (`source` "listing"), else the current notebook (or
 * pipeline file), else the file browser's selection.
 */
function fileToSchedule(
  app: JupyterFrontEnd,
  args: Record<string, unknown>
): string | null {
  if (typeof args['path'] === 'string' && args['path']) {
    return rootRelative(args['path'] as string);
  }
  if (args['source'] === 'listing') {
    return selectedFile(app);
  }
  return currentDocument(app) ?? selectedFile(app);
}

/** The id (or name) a row command acts on: its argument, else the row right-clicked. */
function targetRef(
  app: JupyterFrontEnd,
  args: Record<string, unknown>
): string | null {
  return (
    (args['id'] as string | undefined) ??
    app.contextMenuHitTest(
      el => el instanceof HTMLElement && el.dataset.scheduleId !== undefined
    )?.dataset.scheduleId ??
    null
  );
}

/** The loaded schedule a row command acts on (by id or name). */
function targetSchedule(
  app: JupyterFrontEnd,
  context: IScheduleContext,
  args: Record<string, unknown>
): Schedule | null {
  const ref = targetRef(app, args);
  if (!ref) {
    return null;
  }
  return (
    context.schedules.find(ref) ??
    context.schedules.schedules?.find(s => s.name === ref) ??
    null
  );
}

/** Add the schedule commands; returns the actions of the Schedules section's rows. */
export function addScheduleCommands(
  app: JupyterFrontEnd,
  context: IScheduleContext,
  palette: ICommandPalette | null
): IScheduleActions {
  const { commands } = app;

  const open = async (schedule: Schedule | null, path?: string | null) => {
    const saved = await editSchedule({
      client: context.client,
      schedules: context.schedules,
      schedule,
      path
    });
    if (saved) {
      context.showSchedules();
    }
    return saved;
  };

  commands.addCommand(ScheduleCommandIDs.create, {
    label: args =>
      args['isPalette'] ? 'MLOps: New schedule…' : 'New schedule…',
    caption:
      'Run a notebook (papermill) or a pipeline on a cron schedule (args: {"path": "…"})',
    icon: args => (args['isPalette'] ? undefined : mlopsIcon),
    execute: args => open(null, fileToSchedule(app, args))
  });

  commands.addCommand(ScheduleCommandIDs.scheduleFile, {
    label: args => {
      if (args['isPalette']) {
        return 'MLOps: Schedule this notebook…';
      }
      return targetKindOf(fileToSchedule(app, args)) === 'pipeline'
        ? 'Schedule this pipeline…'
        : 'Schedule this notebook…';
    },
    caption:
      'Run this notebook (or pipeline file) on a cron schedule, from the server',
    icon: args => (args['isPalette'] ? undefined : mlopsIcon),
    isEnabled: args => fileToSchedule(app, args) !== null,
    execute: async args => {
      const path = fileToSchedule(app, args);
      if (!path) {
        await showErrorMessage(
          'Schedule this notebook',
          'Open a notebook (.ipynb) or a pipeline file (.yaml), or select one in the file browser, first.'
        );
        return;
      }
      return open(null, path);
    }
  });

  const runNow = async (schedule: Schedule) => {
    const firing = await context.schedules.runNow(schedule.id);
    if (firing) {
      await context.schedules.expand(schedule.id);
    }
    return firing;
  };
  const setPaused = (schedule: Schedule, paused: boolean) =>
    context.schedules.setPaused(schedule.id, paused);
  const remove = async (schedule: Schedule) => {
    const answer = await showDialog({
      title: `Delete schedule ${schedule.name}?`,
      body: `It will not run ${schedule.target?.path ?? ''} again. The runs it already recorded stay.`,
      buttons: [
        Dialog.cancelButton(),
        Dialog.warnButton({ label: 'Delete', ariaLabel: 'Delete the schedule' })
      ]
    });
    if (answer.button.accept) {
      return context.schedules.remove(schedule.id);
    }
    return false;
  };

  const rowCommand = (
    id: string,
    label: (schedule: Schedule | null) => string,
    caption: string,
    action: (schedule: Schedule) => Promise<unknown>
  ) =>
    commands.addCommand(id, {
      label: args => label(targetSchedule(app, context, args)),
      caption: `${caption} (args: {"id": "…"})`,
      isEnabled: args => targetRef(app, args) !== null,
      execute: async args => {
        const ref = targetRef(app, args);
        // Not loaded in the panel yet (a command run with an id): ask the server.
        const schedule =
          targetSchedule(app, context, args) ??
          (ref
            ? await context.client.getSchedule(ref, 1).catch(() => null)
            : null);
        if (!schedule) {
          await showErrorMessage(
            'Schedules',
            ref
              ? `No schedule ${ref}.`
              : 'Right-click a schedule in the MLOps panel (or pass its id).'
          );
          return;
        }
        return action(schedule);
      }
    });

  rowCommand(
    ScheduleCommandIDs.runNow,
    () => 'Run now',
    'Run the schedule now (a manual firing)',
    runNow
  );
  rowCommand(
    ScheduleCommandIDs.togglePause,
    s => (s?.paused ? 'Resume' : 'Pause'),
    'Pause a schedule, or resume a paused one',
    s => setPaused(s, !s.paused)
  );
  rowCommand(
    ScheduleCommandIDs.edit,
    () => 'Edit…',
    'Change the schedule',
    s => open(s)
  );
  rowCommand(
    ScheduleCommandIDs.remove,
    () => 'Delete…',
    'Delete the schedule (after a confirmation)',
    remove
  );

  const row = '.mlops-ScheduleItem[data-schedule-id]';
  const menus: [string, string, number, Record<string, string>][] = [
    [row, ScheduleCommandIDs.runNow, 1, {}],
    [row, ScheduleCommandIDs.togglePause, 2, {}],
    [row, ScheduleCommandIDs.edit, 3, {}],
    [row, ScheduleCommandIDs.remove, 4, {}],
    [
      '.jp-DirListing-item[data-file-type="notebook"]',
      ScheduleCommandIDs.scheduleFile,
      60,
      { source: 'listing' }
    ],
    [
      '.jp-DirListing-item[data-file-type="yaml"]',
      ScheduleCommandIDs.scheduleFile,
      60,
      { source: 'listing' }
    ],
    ['.jp-Notebook', ScheduleCommandIDs.scheduleFile, 60, {}]
  ];
  for (const [selector, command, rank, args] of menus) {
    app.contextMenu.addItem({ selector, command, rank, args });
  }

  if (palette) {
    for (const command of [
      ScheduleCommandIDs.create,
      ScheduleCommandIDs.scheduleFile
    ]) {
      palette.addItem({
        command,
        category: 'MLOps',
        args: { isPalette: true }
      });
    }
  }

  return {
    create: () => void commands.execute(ScheduleCommandIDs.create),
    edit: schedule => void open(schedule),
    remove: schedule => void remove(schedule),
    runNow: schedule => void runNow(schedule),
    setPaused: (schedule, paused) => void setPaused(schedule, paused),
    openRun: context.openRun
  };
}
