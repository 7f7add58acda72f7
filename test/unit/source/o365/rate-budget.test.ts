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

describe('RateBudget.background (the reconciliation sweep, issue 12)', () => {
  it('leaves half the burst to live requests and never takes a token while a live request waits', async () => {
    const clock = new ManualClock();
    // 70/min with a 10 s burst refills one token a second (quota / (60 s + burst)) into a bucket of 10.
    const budget = new RateBudget(70, clock, 10);
    const background = budget.background();
    let sweepGranted = 0;
    const sweep = (async () => {
      for (let i = 0; i < 20; i += 1) {
        await background.take();
        sweepGranted += 1;
      }
    })();
    // The sweep takes the burst down to its reserve (half of 10), then waits.
    await waitFor(() => sweepGranted === 5 && clock.sleeping === 1, { what: 'the sweep to stop at the reserve' });
    // Live requests still get the reserve at once.
    const live = startTakes(budget, 8);
    await waitFor(() => live.granted() === 5, { what: 'five live grants from the reserve' });
    // While live requests wait, every refilled token goes to them, none to the sweep.
    for (let s = 0; s < 3; s += 1) {
      await advance(clock, 1_000);
      await waitFor(() => live.granted() === 6 + s, { what: `live grant ${6 + s}` });
    }
    expect(sweepGranted).toBe(5);
    await live.all;
    // With live polling idle the sweep gets what refills above the reserve (6 tokens: 6 s).
    for (let s = 0; s < 5; s += 1) await advance(clock, 1_000);
    expect(sweepGranted).toBe(5);
    for (let s = 0; s < 3; s += 1) await advance(clock, 1_000);
    await waitFor(() => sweepGranted >= 6, { what: 'the sweep to go on once live is idle' });
    budget.pauseUntil(Number.MAX_SAFE_INTEGER);
    void sweep.catch(() => undefined);
  });
});
