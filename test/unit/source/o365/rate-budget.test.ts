import { describe, expect, it } from 'vitest';
import { RateBudget } from '../../../../src/source/o365/rate-budget.ts';
import { ManualClock, waitFor, advance } from '../../../support/time.ts';

/** Starts `n` takes and reports how many have been granted so far. */
function startTakes(budget: RateBudget, n: number, signal?: AbortSignal): { granted: () => number; all: Promise<unknown> } {
  let granted = 0;
  const takes = Array.from({ length: n }, () =>
    budget.take(signal).then(() => {
      granted += 1;
    }),
  );
  return { granted: () => granted, all: Promise.allSettled(takes) };
}

describe('RateBudget (per-tenant request quota, o365-api.md §2.4)', () => {
  it('at 65/min with a 5 s burst, five requests go at once and then one a second', async () => {
    // rate = 65 / (60 s + 5 s) = 1/s; the bucket holds 5 s of it.
    const clock = new ManualClock();
    const budget = new RateBudget(65, clock, 5);
    const takes = startTakes(budget, 7);
    await waitFor(() => takes.granted() === 5 && clock.sleeping === 2, { what: 'five grants and two waiters' });

    await advance(clock, 999);
    expect(takes.granted()).toBe(5);
    await advance(clock, 1);
    await waitFor(() => takes.granted() === 6, { what: 'the 6th grant' });
    expect(takes.granted()).toBe(6);
    await advance(clock, 1_000);
    await waitFor(() => takes.granted() === 7, { what: 'the 7th grant' });
    await takes.all;
  });

  it('never lets a sliding minute hold more than the quota, burst included (the service counts that way)', async () => {
    const clock = new ManualClock();
    const quota = 120;
    const budget = new RateBudget(quota, clock, 5);
    const grants: number[] = [];
    const t0 = clock.now();
    const takes = Array.from({ length: 400 }, () => budget.take().then(() => grants.push(clock.now() - t0)));
    // Three minutes of steady demand, with a pause in the middle that lets the bucket fill up again.
    for (let ms = 0; ms < 180_000; ms += 250) {
      if (ms === 90_000) budget.pauseUntil(clock.now() + 20_000);
      await advance(clock, 250);
    }
    await waitFor(() => clock.sleeping > 0, { what: 'the rest waiting' });
    for (const at of grants) {
      const inMinute = grants.filter((t) => t >= at && t < at + 60_000).length;
      expect(inMinute).toBeLessThanOrEqual(quota);
    }
    // …and it still uses most of it: over 90 % in a steady minute.
    const steady = grants.filter((t) => t >= 20_000 && t < 80_000).length;
    expect(steady, `grants ${grants.length}, steady minute ${steady}`).toBeGreaterThan(0.9 * quota);
    budget.pauseUntil(Number.MAX_SAFE_INTEGER);
    void takes;
  });

  it('pauseUntil blocks every caller until the time has come, even with tokens left', async () => {
    const clock = new ManualClock();
    const budget = new RateBudget(600_000, clock);
    await budget.take();
    budget.pauseUntil(clock.now() + 30_000);
    const takes = startTakes(budget, 3);
    await waitFor(() => clock.sleeping === 3, { what: 'three callers waiting' });

    await advance(clock, 29_999);
    expect(takes.granted()).toBe(0);
    await advance(clock, 1);
    await waitFor(() => takes.granted() === 3, { what: 'every caller released' });
    // An earlier pause never shortens a later one.
    budget.pauseUntil(clock.now() + 10_000);
    budget.pauseUntil(clock.now() + 1_000);
    const late = startTakes(budget, 1);
    await waitFor(() => clock.sleeping === 1);
    await advance(clock, 1_000);
    expect(late.granted()).toBe(0);
    await advance(clock, 9_000);
    await waitFor(() => late.granted() === 1);
  });

  it('rejects a waiting take when its signal aborts', async () => {
    const clock = new ManualClock();
    const budget = new RateBudget(60, clock, 1);
    await budget.take();
    const controller = new AbortController();
    const waiting = budget.take(controller.signal);
    await waitFor(() => clock.sleeping === 1);
    controller.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
  });
});
