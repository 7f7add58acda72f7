import { describe, expect, it } from 'vitest';
import { WaitingLogPolicy } from '../../../../src/source/poller/waiting-log.ts';

const MIN = 60_000;

describe('WaitingLogPolicy: quiet when nothing changes', () => {
  it('logs a waiting tenant loudly only as reminders with a growing gap, capped', () => {
    const policy = new WaitingLogPolicy({ firstReminderMs: 5 * MIN, maxReminderMs: 20 * MIN });
    const loudAt: number[] = [];
    // A failed poll every 5 s for 2 hours.
    for (let t = 0; t <= 120 * MIN; t += 5_000) if (policy.level('audit-disabled', t) === 'warn') loudAt.push(t / MIN);
    // The change itself is announced by the status-change line, so the first reminder comes after 5 min.
    expect(loudAt.slice(0, 4)).toEqual([5, 15, 35, 55]);
    expect(loudAt.length).toBeLessThan(10);
  });

  it('starts over when the status changes, and never quiets trouble that may heal', () => {
    const policy = new WaitingLogPolicy();
    expect(policy.level('audit-disabled', 0)).toBe('debug');
    expect(policy.level('audit-disabled', 1000)).toBe('debug');
    expect(policy.level('consent-missing', 2000)).toBe('debug');
    expect(policy.level('consent-missing', 2000 + 5 * MIN)).toBe('warn');
    expect(policy.level('degraded', 3000)).toBe('warn');
    expect(policy.level('degraded', 3001)).toBe('warn');
  });
});
