import { describe, expect, it } from 'vitest';
import { TenantCursor } from '../../../src/checkpoint/tenant-cursor.ts';
import { CheckpointTracker } from '../../../src/checkpoint/tracker.ts';
import type { Cursor } from '../../../src/contracts/checkpoint.ts';
import { ConnectorError } from '../../../src/contracts/errors.ts';
import { MemorySink } from '../../../src/sink/memory-sink.ts';
import { sampleEvent } from '../../contract/sink.contract.ts';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const min = (n: number): number => T0 + n * 60_000;
const key = { tenantId: 'tenant-a', contentType: 'Audit.SharePoint' };

async function setup(idleSaveIntervalMs = 0): Promise<{ sink: MemorySink; tracker: CheckpointTracker; cursor: TenantCursor; now: { ms: number } }> {
  const initial: Cursor = { lowerBound: new Date(T0).toISOString(), done: {}, updatedAt: new Date(T0).toISOString() };
  const tracker = new CheckpointTracker(initial, { maxInFlight: 10, overlapMs: 5 * 60_000 });
  const now = { ms: min(30) };
  const cursor = new TenantCursor({ key, tracker, now: () => now.ms, idleSaveIntervalMs, initial });
  const sink = new MemorySink({ mode: 'exactly-once' });
  await sink.start();
  for (const [contentId, at] of [['a', 1], ['b', 2], ['c', 3]] as const) await tracker.track({ contentId, createdMs: min(at) });
  tracker.markListedUpTo(min(20));
  return { sink, tracker, cursor, now };
}

const covers = (c: Cursor, contentId: string, createdMs: number): boolean => createdMs < Date.parse(c.lowerBound) || contentId in c.done;

describe('TenantCursor: a cursor never covers a blob outside the group it commits with', () => {
  it('counts as done only the blobs of the group and of groups committed before it', async () => {
    const { sink, tracker, cursor } = await setup();
    // a's unit is still being filled while b and c commit: their group's cursor stays below a.
    const a = await sink.begin('tenant-a');
    await a.send([sampleEvent('a1')]);
    const [b, c] = await Promise.all([sink.begin('tenant-a'), sink.begin('tenant-a')]);
    await b.send([sampleEvent('b1')]);
    await c.send([sampleEvent('c1')]);
    await Promise.all([b.commit({ source: cursor, contentId: 'b' }), c.commit({ source: cursor, contentId: 'c' })]);
    const first = sink.log.checkpoints.at(-1)!.cursor;
    expect(covers(first, 'a', min(1))).toBe(false);
    expect(covers(first, 'b', min(2)) && covers(first, 'c', min(3))).toBe(true);
    expect(sink.log.groups).toBe(1);

    // a's group fails: nothing of it is visible and no cursor covers it.
    sink.failNext('commit', new ConnectorError('SINK_UNAVAILABLE', 'broker away', { stage: 'sink', retriable: true }));
    await expect(a.commit({ source: cursor, contentId: 'a' })).rejects.toThrow('broker away');
    expect(tracker.isKnown('a') && tracker.pendingCount).toBe(1);
    expect(sink.log.checkpoints.every((cp) => !covers(cp.cursor, 'a', min(1)))).toBe(true);

    // Retried, a commits and the cursor moves past everything listed.
    const retry = await sink.begin('tenant-a');
    await retry.send([sampleEvent('a1')]);
    await retry.commit({ source: cursor, contentId: 'a' });
    expect(sink.log.checkpoints.at(-1)!.cursor.lowerBound).toBe(new Date(min(20)).toISOString());
    expect(sink.log.events.map((e) => e.event.event.id).sort()).toEqual(['a1', 'b1', 'c1']);
  });

  it('writes nothing for a cursor that did not move, and rate-limits moves of the clock alone', async () => {
    const { sink, tracker, cursor, now } = await setup(300_000);
    for (const id of ['a', 'b', 'c']) {
      const unit = await sink.begin('tenant-a');
      await unit.commit({ source: cursor, contentId: id });
    }
    let written = sink.log.checkpoints.length;
    await sink.saveCursor(cursor);
    expect(sink.log.checkpoints).toHaveLength(written);
    // Listing reached further: the first clock-only move goes out, the next waits for the interval.
    tracker.markListedUpTo(min(24));
    await sink.saveCursor(cursor);
    expect(sink.log.checkpoints).toHaveLength(++written);
    tracker.markListedUpTo(min(25));
    await sink.saveCursor(cursor);
    expect(sink.log.checkpoints).toHaveLength(written);
    now.ms += 300_000;
    await sink.saveCursor(cursor);
    expect(sink.log.checkpoints).toHaveLength(written + 1);
    // Stopping forces the last move out at once.
    tracker.markListedUpTo(min(26));
    cursor.forceNext();
    await sink.saveCursor(cursor, { promptly: true });
    expect(sink.log.checkpoints.at(-1)!.cursor.lowerBound).toBe(new Date(min(26)).toISOString());
  });
});
