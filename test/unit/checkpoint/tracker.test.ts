import { describe, expect, it } from 'vitest';
import { CheckpointTracker } from '../../../src/checkpoint/tracker.ts';

const T0 = Date.parse('2026-11-20T00:00:00Z');
const min = (n: number): number => T0 + n * 60_000;
const start = { lowerBound: new Date(T0).toISOString(), done: {}, updatedAt: new Date(T0).toISOString() };

describe('CheckpointTracker (DESIGN invariant 1: the cursor never covers an unacknowledged blob)', () => {
  it('commits only the finished prefix when blobs finish out of order', async () => {
    const tracker = new CheckpointTracker(start, { maxInFlight: 10, overlapMs: 0 });
    await tracker.track({ contentId: 'a', createdMs: min(1) });
    await tracker.track({ contentId: 'b', createdMs: min(2) });
    await tracker.track({ contentId: 'c', createdMs: min(3) });
    tracker.markListedUpTo(min(10));
    tracker.markDone('c');
    tracker.markDone('b');
    const cursor = tracker.cursor(min(11));
    expect(cursor.lowerBound).toBe(new Date(min(1)).toISOString());
    // b and c are done although a is not: they are remembered so a restart does not redo them.
    expect(Object.keys(cursor.done).sort()).toEqual(['b', 'c']);
    tracker.markDone('a');
    expect(tracker.cursor(min(11)).lowerBound).toBe(new Date(min(10)).toISOString());
  });

  it('never moves the lower bound past the listing progress', async () => {
    const tracker = new CheckpointTracker(start, { maxInFlight: 10, overlapMs: 0 });
    await tracker.track({ contentId: 'a', createdMs: min(1) });
    tracker.markDone('a');
    expect(tracker.cursor(min(5)).lowerBound).toBe(new Date(T0).toISOString());
    tracker.markListedUpTo(min(4));
    expect(tracker.cursor(min(5)).lowerBound).toBe(new Date(min(4)).toISOString());
  });

  it('includes a blob as done only in the exactly-once preview asked for it', async () => {
    const tracker = new CheckpointTracker(start, { maxInFlight: 10, overlapMs: 5 * 60_000 });
    await tracker.track({ contentId: 'a', createdMs: min(1) });
    await tracker.track({ contentId: 'b', createdMs: min(2) });
    tracker.markListedUpTo(min(10));
    const preview = tracker.cursor(min(11), new Map([['a', { done: true }]]));
    expect(preview.lowerBound).toBe(new Date(min(2)).toISOString());
    expect(preview.done).toEqual({ a: new Date(min(1)).toISOString() });
    // The preview changed nothing: a is still pending.
    expect(tracker.cursor(min(11)).lowerBound).toBe(new Date(min(1)).toISOString());
  });

  it('keeps done ids within the overlap and forgets older ones', async () => {
    const tracker = new CheckpointTracker(start, { maxInFlight: 10, overlapMs: 5 * 60_000 });
    await tracker.track({ contentId: 'old', createdMs: min(1) });
    await tracker.track({ contentId: 'recent', createdMs: min(8) });
    tracker.markDone('old');
    tracker.markDone('recent');
    tracker.markListedUpTo(min(10));
    expect(Object.keys(tracker.cursor(min(11)).done)).toEqual(['recent']);
    expect(tracker.isKnown('recent')).toBe(true);
    expect(tracker.isKnown('old')).toBe(false);
  });

  it('resumes from a stored cursor: done ids stay known, the lower bound is the listing start', () => {
    const tracker = new CheckpointTracker(
      { lowerBound: new Date(min(10)).toISOString(), done: { x: new Date(min(9)).toISOString() }, updatedAt: '' },
      { maxInFlight: 10, overlapMs: 5 * 60_000 },
    );
    expect(tracker.isKnown('x')).toBe(true);
    expect(tracker.listedUpToMs).toBe(min(10));
  });

  it('blocks track() at the in-flight cap until a blob finishes (backpressure)', async () => {
    const tracker = new CheckpointTracker(start, { maxInFlight: 2, overlapMs: 0 });
    await tracker.track({ contentId: 'a', createdMs: min(1) });
    await tracker.track({ contentId: 'b', createdMs: min(2) });
    let third = false;
    const pending = tracker.track({ contentId: 'c', createdMs: min(3) }).then(() => (third = true));
    await Promise.resolve();
    expect(third).toBe(false);
    tracker.markDone('a');
    await pending;
    expect(third).toBe(true);
    expect(tracker.pendingCount).toBe(2);
  });

  it('a blob never finished keeps the cursor below it, however far the listing got', async () => {
    const tracker = new CheckpointTracker(start, { maxInFlight: 2, overlapMs: 0 });
    await tracker.track({ contentId: 'a', createdMs: min(1) });
    tracker.markListedUpTo(min(50));
    const cursor = tracker.cursor(min(60));
    expect(cursor.lowerBound).toBe(new Date(min(1)).toISOString());
    expect(cursor.done).toEqual({});
  });

  it('aborting a blocked track() rejects it', async () => {
    const tracker = new CheckpointTracker(start, { maxInFlight: 1, overlapMs: 0 });
    await tracker.track({ contentId: 'a', createdMs: min(1) });
    const controller = new AbortController();
    const blocked = tracker.track({ contentId: 'b', createdMs: min(2) }, controller.signal);
    controller.abort(new Error('stop'));
    await expect(blocked).rejects.toThrow('stop');
  });
});
