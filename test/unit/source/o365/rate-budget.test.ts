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
  it('lets a backlog start at full speed: the whole quota at once, then one as each leaves the window', async () => {
    // A minute plus the default 1 s margin: a slot frees 61 s after it was taken.
    const clock = new ManualClock();
    const budget = new RateBudget(5, clock);
    const takes = startTakes(budget, 7);
    await waitFor(() => takes.granted() === 5 && clock.sleeping === 2, { what: 'five grants and two waiters' });
    expect(budget.inWindow()).toBe(5);

    await advance(clock, 60_999);
    expect(takes.granted()).toBe(5);
    await advance(clock, 1);
    await waitFor(() => takes.granted() === 7, { what: 'the two waiters, as the first five leave the window' });
    expect(budget.inWindow()).toBe(2);
    await takes.all;
  });

  it('spreads grants over the minute as the window frees them, not in lock-step', async () => {
    const clock = new ManualClock();
    const budget = new RateBudget(3, clock, { marginMs: 0 });
    await budget.take();
    await advance(clock, 10_000);
    await budget.take();
    await advance(clock, 10_000);
    await budget.take();
    const next = startTakes(budget, 2);
    await waitFor(() => clock.sleeping === 2, { what: 'two waiters' });
    // 60 s after the first grant one slot frees; the second waiter needs the one taken at 10 s.
    await advance(clock, 39_999);
    expect(next.granted()).toBe(0);
    await advance(clock, 1);
    await waitFor(() => next.granted() === 1, { what: 'one slot at 60 s' });
    await advance(clock, 9_999);
    expect(next.granted()).toBe(1);
    await advance(clock, 1);
    await waitFor(() => next.granted() === 2, { what: 'the next at 70 s' });
  });

  it('never lets a sliding minute hold more than the quota, burst included (the service counts that way)', async () => {
    const clock = new ManualClock();
    const quota = 120;
    const budget = new RateBudget(quota, clock);
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
    // …and it still uses most of it: over 90 % of the quota in every minute of steady demand.
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
    const budget = new RateBudget(1, clock);
    await budget.take();
    const controller = new AbortController();
    const waiting = budget.take(controller.signal);
    await waitFor(() => clock.sleeping === 1);
    controller.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
  });
});

describe('RateBudget.background (the reconciliation sweep, issue 12)', () => {
  it('leaves the reserve to live requests and never takes a slot while a live request waits', async () => {
    const clock = new ManualClock();
    const budget = new RateBudget(10, clock, { marginMs: 0, backgroundReserve: 4 });
    const background = budget.background();
    const grants: string[] = [];
    const sweep = (async () => {
      for (let i = 0; i < 20; i += 1) {
        await background.take();
        grants.push('sweep');
      }
    })();
    // The sweep stops where the reserve begins: 10 − 4 = 6 in the window.
    await waitFor(() => grants.length === 6 && clock.sleeping === 1, { what: 'the sweep to stop at the reserve' });
    // Live requests still get the reserve at once.
    const live = Array.from({ length: 6 }, () => budget.take().then(() => grants.push('live')));
    await waitFor(() => grants.length === 10 && clock.sleeping === 3, { what: 'four live grants from the reserve, two live waiting' });
    expect(budget.inWindow()).toBe(10);
    // The minute passes: every slot frees at once; the waiting live requests go before any sweep request.
    await advance(clock, 60_000);
    await Promise.all(live);
    // A sweep request that found live ones waiting sleeps one request's share of the window (6 s here).
    await advance(clock, 6_000);
    await waitFor(() => grants.length === 16 && clock.sleeping === 1, { what: 'the sweep to take up to the reserve again' });
    expect(grants.slice(10, 12)).toEqual(['live', 'live']);
    expect(grants.slice(12)).toEqual(['sweep', 'sweep', 'sweep', 'sweep']);
    expect(budget.inWindow()).toBe(6);
    budget.pauseUntil(Number.MAX_SAFE_INTEGER);
    void sweep.catch(() => undefined);
  });
});
