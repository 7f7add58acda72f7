import { describe, expect, it } from 'vitest';
import { RETENTION_MS, RETENTION_SAFETY_MS } from '../../../../src/source/poller/window-planner.ts';
import { latenessBucket, nextSweepAtMs, sweepPhase, sweepRange, sweepWindows } from '../../../../src/source/sweep/sweep-plan.ts';

const H = 3_600_000;
const NOW = Date.parse('2026-11-20T12:00:00Z');

describe('sweep planning (issue 12)', () => {
  it('covers from the oldest listable instant (or fromMs) to where the live overlap begins', () => {
    const range = sweepRange({ nowMs: NOW, fromMs: 0, liveListedUpToMs: NOW - 60_000, overlapMs: 4 * H });
    expect(range).toEqual({ startMs: NOW - RETENTION_MS + RETENTION_SAFETY_MS, endMs: NOW - 60_000 - 4 * H });
    expect(sweepRange({ nowMs: NOW, fromMs: NOW - 30 * H, liveListedUpToMs: NOW, overlapMs: 4 * H })).toEqual({ startMs: NOW - 30 * H, endMs: NOW - 4 * H });
    // Digests that start inside the live overlap leave nothing for the sweep.
    expect(sweepRange({ nowMs: NOW, fromMs: NOW - 2 * H, liveListedUpToMs: NOW, overlapMs: 4 * H })).toBeUndefined();
  });

  it('lists the range in windows of at most 24 h, oldest first, without gaps', () => {
    const range = { startMs: NOW - 7 * 24 * H + 600_000, endMs: NOW - 4 * H };
    const windows = sweepWindows(range, 24 * H);
    expect(windows).toHaveLength(7);
    expect(windows[0]?.startMs).toBe(range.startMs);
    expect(windows.at(-1)?.endMs).toBe(range.endMs);
    for (const [i, w] of windows.entries()) {
      expect(w.endMs - w.startMs).toBeLessThanOrEqual(24 * H);
      if (i > 0) expect(w.startMs).toBe(windows[i - 1]?.endMs);
    }
    // A configured maxWindowHours above 24 could never be valid; the planner caps it.
    expect(sweepWindows({ startMs: 0, endMs: 48 * H }, 36 * H)).toHaveLength(2);
  });

  it('labels lateness with four bounded buckets', () => {
    expect(latenessBucket(5 * H)).toBe('under-6h');
    expect(latenessBucket(6 * H)).toBe('6h-24h');
    expect(latenessBucket(25 * H)).toBe('1d-3d');
    expect(latenessBucket(72 * H)).toBe('3d-7d');
    expect(latenessBucket(7 * 24 * H)).toBe('3d-7d');
  });

  it('spreads tenants over the interval and keeps each on its own slot', () => {
    const phases = Array.from({ length: 1000 }, (_, i) => sweepPhase(`tenant-${i}`));
    for (const p of phases) expect(p >= 0 && p < 1).toBe(true);
    // Every sixth of the interval gets a fair share of 1,000 tenants.
    for (let sixth = 0; sixth < 6; sixth += 1) {
      const n = phases.filter((p) => p >= sixth / 6 && p < (sixth + 1) / 6).length;
      expect(n).toBeGreaterThan(120);
      expect(n).toBeLessThan(215);
    }
    const interval = 6 * H;
    const next = nextSweepAtMs({ nowMs: NOW, lastCompletedMs: NOW - H, intervalMs: interval, phase: 0.25, startupSpreadMs: 600_000 });
    expect(((next % interval) + interval) % interval).toBe(0.25 * interval);
    expect(next).toBeGreaterThanOrEqual(NOW - H + interval / 2);
    expect(next - (NOW - H)).toBeLessThanOrEqual(interval * 1.5);
  });

  it('runs overdue sweeps soon after start: after downtime, after an interrupted sweep, or when none finished', () => {
    const base = { nowMs: NOW, intervalMs: 6 * H, phase: 0.5, startupSpreadMs: 600_000 };
    expect(nextSweepAtMs({ ...base, lastCompletedMs: NOW - 7 * H })).toBe(NOW + 300_000);
    expect(nextSweepAtMs({ ...base, lastCompletedMs: undefined })).toBe(NOW + 300_000);
    expect(nextSweepAtMs({ ...base, lastCompletedMs: NOW - H, lastStartedMs: NOW - 0.5 * H })).toBe(NOW + 300_000);
    expect(nextSweepAtMs({ ...base, lastCompletedMs: NOW - H, lastStartedMs: NOW - 2 * H })).toBeGreaterThan(NOW + H);
  });
});
