import { describe, expect, it } from 'vitest';
import { RecentEventIds } from '../../../src/pipeline/recent-event-ids.ts';

describe('RecentEventIds (bounded dedupe memory, DESIGN invariant 3)', () => {
  it('remembers added ids and forgets the oldest past its capacity', () => {
    const ids = new RecentEventIds(3);
    ids.addAll(['a', 'b', 'c']);
    ids.addAll(['d']);
    expect(ids.size).toBe(3);
    expect(ids.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((id) => ids.has(id))).toBe(true);
  });

  it('counts a re-added id as recent again', () => {
    const ids = new RecentEventIds(2);
    ids.addAll(['a', 'b']);
    ids.addAll(['a']);
    ids.addAll(['c']);
    expect(ids.has('a')).toBe(true);
    expect(ids.has('b')).toBe(false);
  });

  it('with capacity 0 remembers nothing', () => {
    const ids = new RecentEventIds(0);
    ids.addAll(['a']);
    expect(ids.has('a')).toBe(false);
    expect(ids.size).toBe(0);
  });
});
