import { describe, expect, it } from 'vitest';
import { CoalescingTask } from '../../../src/util/coalescing-task.ts';
import { waitFor } from '../../support/time.ts';

/** A task whose runs finish only when the test says so. */
function controlledTask(): { task: () => Promise<void>; runs: number; finish: (error?: Error) => void; running: () => boolean } {
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const state = {
    runs: 0,
    task: () =>
      new Promise<void>((resolve, reject) => {
        state.runs += 1;
        pending.push({ resolve, reject });
      }),
    finish: (error?: Error) => {
      const next = pending.shift();
      if (next === undefined) throw new Error('no run in progress');
      if (error === undefined) next.resolve();
      else next.reject(error);
    },
    running: () => pending.length > 0,
  };
  return state;
}

describe('CoalescingTask', () => {
  it('folds requests made during a run into exactly one more run', async () => {
    const control = controlledTask();
    const coalescing = new CoalescingTask(control.task, () => undefined);
    coalescing.request();
    coalescing.request();
    coalescing.request();
    expect(control.runs).toBe(1);
    control.finish();
    await waitFor(() => control.runs === 2, { what: 'the folded run' });
    control.finish();
    await coalescing.flush();
    expect(control.runs).toBe(2);
  });

  it('never runs the task twice at once', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const coalescing = new CoalescingTask(async () => {
      active += 1;
      runs += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setImmediate(resolve));
      active -= 1;
    }, () => undefined);
    for (let i = 0; i < 20; i += 1) {
      coalescing.request();
      if (i % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await coalescing.flush();
    expect(maxActive).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(runs).toBeLessThan(20);
  });

  it('reports a failed run and keeps serving requests', async () => {
    const control = controlledTask();
    const errors: unknown[] = [];
    const coalescing = new CoalescingTask(control.task, (error) => errors.push(error));
    coalescing.request();
    coalescing.request();
    control.finish(new Error('store down'));
    await waitFor(() => control.runs === 2);
    control.finish();
    await coalescing.flush();
    expect(errors).toEqual([new Error('store down')]);
    coalescing.request();
    expect(control.runs).toBe(3);
    control.finish();
    await coalescing.flush();
  });

  it('flush resolves at once when idle and waits for the run in progress otherwise', async () => {
    const control = controlledTask();
    const coalescing = new CoalescingTask(control.task, () => undefined);
    await coalescing.flush();
    coalescing.request();
    let flushed = false;
    const flushing = coalescing.flush().then(() => {
      flushed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    control.finish();
    await flushing;
    expect(flushed).toBe(true);
  });
});
