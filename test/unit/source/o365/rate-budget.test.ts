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
  it('at 60/min with a 10 s burst, the 11th immediate request waits one second', async () => {
    const clock = new ManualClock();
    const budget = new RateBudget(60, clock, 10);
    const takes = startTakes(budget, 12);
    await waitFor(() => takes.granted() === 10 && clock.sleeping === 2, { what: 'ten grants and two waiters' });

    await advance(clock, 999);
    expect(takes.granted()).toBe(10);
    await advance(clock, 1);
    await waitFor(() => takes.granted() === 11, { what: 'the 11th grant' });
    expect(takes.granted()).toBe(11);
    await advance(clock, 1_000);
    await waitFor(() => takes.granted() === 12, { what: 'the 12th grant' });
    await takes.all;
  });

  it('holds the quota over a minute: 60/min grants about 60 in the next 60 s, not more', async () => {
    const clock = new ManualClock();
    const budget = new RateBudget(60, clock, 5);
    const takes = startTakes(budget, 200);
    await waitFor(() => takes.granted() === 5, { what: 'the burst' });
    for (let s = 0; s < 60; s += 1) {
      await advance(clock, 1_000);
      await waitFor(() => takes.granted() >= 6 + s, { what: `grant after ${s + 1}s` });
    }
    expect(takes.granted()).toBe(65);
    budget.pauseUntil(Number.MAX_SAFE_INTEGER);
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
    const budget = new RateBudget(60, clock, 10);
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
