import { describe, expect, it } from 'vitest';
import { backoffMs, retryDelayMs } from '../../../src/util/backoff.ts';

describe('backoffMs (exponential, full jitter)', () => {
  it('doubles the ceiling per attempt from the base and caps it at maxMs', () => {
    const top = { maxMs: 10_000, random: () => 1 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffMs(attempt, top))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    expect(backoffMs(3, { baseMs: 100, maxMs: 10_000, random: () => 1 })).toBe(400);
  });

  it('spreads the wait over [0, ceiling] with the random source', () => {
    expect(backoffMs(3, { maxMs: 60_000, random: () => 0 })).toBe(0);
    expect(backoffMs(3, { maxMs: 60_000, random: () => 0.5 })).toBe(2_000);
    expect(backoffMs(0, { maxMs: 60_000, random: () => 0.5 })).toBe(500);
  });

  it('stays within bounds with the real random source', () => {
    for (let i = 0; i < 100; i += 1) {
      const wait = backoffMs(4, { maxMs: 5_000 });
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(5_000);
    }
  });
});

describe('retryDelayMs', () => {
  it("uses the server's Retry-After when given (even past maxMs), else backoff", () => {
    expect(retryDelayMs(1, 30, { maxMs: 10_000, random: () => 0.5 })).toBe(30_000);
    expect(retryDelayMs(1, 0, { maxMs: 10_000, random: () => 0.5 })).toBe(0);
    expect(retryDelayMs(2, undefined, { maxMs: 10_000, random: () => 0.5 })).toBe(1_000);
  });
});
