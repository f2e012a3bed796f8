/**
 * Schedules and firings for the unit tests of the schedule helpers and models.
 */
import { Schedule, ScheduleFiring } from '../src/client';

/** A firing of schedule `s1`, changed by `extra`. */
export function firing(
  id: string,
  status: string,
  scheduledFor: number,
  extra: Partial<ScheduleFiring> = {}
): ScheduleFiring {
  return {
    id,
    schedule_id: 's1',
    scheduled_for: scheduledFor,
    started_at: status === 'missed' ? null : scheduledFor + 1000,
    ended_at:
      status === 'running' || status === 'missed' ? null : scheduledFor + 61000,
    status,
    trigger: 'cron',
    run_id: status === 'missed' ? null : `run-${id}`,
    error:
      status === 'failed' ? 'cell 2 (In [2]) raised ValueError: bad' : null,
    ...extra
  };
}

/** A nightly schedule of `examples/train.ipynb`, changed by `extra`. */
export function schedule(
  id: string,
  name: string,
  extra: Partial<Schedule> = {}
): Schedule {
  return {
    id,
    name,
    cron: '0 2 * * *',
    timezone: 'UTC',
    description: 'At 02:00 every day',
    target: { kind: 'notebook', path: 'examples/train.ipynb' },
    parameters: { alpha: 0.5 },
    experiment: null,
    paused: false,
    created_by: 'alice',
    created_at: 1000,
    updated_at: 1000,
    next_run_at: 5_000_000,
    last: null,
    missed: 0,
    running: false,
    ...extra
  };
}
