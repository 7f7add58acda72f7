import { describe, expect, it } from 'vitest';
import { planWindow, RETENTION_MS, RETENTION_SAFETY_MS } from '../../../src/source/poller/window-planner.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const H = 3600_000;
const base = { nowMs: NOW, overlapMs: 15 * 60_000, endLagMs: 60_000, maxWindowMs: 24 * H };

/** The service's own rule (o365-api.md §1.7, AF20055): the planner must never produce a window it refuses. */
function acceptable(window: { startMs: number; endMs: number }, now: number): boolean {
  return window.startMs < window.endMs && window.endMs - window.startMs <= 24 * H && window.startMs >= now - RETENTION_MS;
}

describe('planWindow (o365-api.md §1.7: ≤ 24 h, start < end, ≤ 7 days back)', () => {
  it('starts overlap before the listing progress and stops endLag before now', () => {
    const window = planWindow({ ...base, listedUpToMs: NOW - 2 * H });
    expect(window).toEqual({ startMs: NOW - 2 * H - 15 * 60_000, endMs: NOW - 60_000 });
  });

  it('never starts before the first run\'s floor: the overlap re-lists only what an earlier run listed', () => {
    const floorMs = NOW - 24 * H;
    expect(planWindow({ ...base, listedUpToMs: floorMs, floorMs })!.startMs).toBe(floorMs);
    expect(planWindow({ ...base, listedUpToMs: floorMs + 5 * 60_000, floorMs })!.startMs).toBe(floorMs);
    // Past the floor by more than the overlap, the floor no longer matters.
    expect(planWindow({ ...base, listedUpToMs: floorMs + 2 * H, floorMs })!.startMs).toBe(floorMs + 2 * H - 15 * 60_000);
  });

  it('caps a window at 24 h', () => {
    const window = planWindow({ ...base, listedUpToMs: NOW - 3 * 24 * H });
    expect(window!.endMs - window!.startMs).toBe(24 * H);
  });

  it('never starts older than 7 days and reports the gap as expired', () => {
    const listedUpToMs = NOW - 9 * 24 * H;
    const window = planWindow({ ...base, listedUpToMs })!;
    expect(window.startMs).toBeGreaterThanOrEqual(NOW - RETENTION_MS + RETENTION_SAFETY_MS);
    expect(window.expiredGap?.fromMs).toBe(listedUpToMs);
    expect(acceptable(window, NOW)).toBe(true);
  });

  it('does not report a gap when only the overlap reaches past 7 days', () => {
    const window = planWindow({ ...base, listedUpToMs: NOW - RETENTION_MS + RETENTION_SAFETY_MS + 60_000 })!;
    expect(window.expiredGap).toBeUndefined();
  });

  it('returns nothing when the listing is already at the present', () => {
    expect(planWindow({ ...base, listedUpToMs: NOW - 60_000 })).toBeUndefined();
  });

  it('uses whole seconds, so the listed range is exactly what the service filters', () => {
    const window = planWindow({ ...base, nowMs: NOW + 789, listedUpToMs: NOW - H + 456 })!;
    expect(window.startMs % 1000).toBe(0);
    expect(window.endMs % 1000).toBe(0);
  });

  it('every planned window is acceptable to the service, for any progress and clock', () => {
    for (let i = 0; i < 2000; i += 1) {
      const now = NOW + Math.floor(Math.random() * 30 * 24 * H);
      const listedUpToMs = now - Math.floor(Math.random() * 12 * 24 * H);
      const window = planWindow({ ...base, nowMs: now, listedUpToMs, overlapMs: Math.floor(Math.random() * H) });
      if (window !== undefined) expect(acceptable(window, now)).toBe(true);
    }
  });
});
