import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/contracts/errors.ts';
import { fromBuffer } from '../../../src/parse/records.ts';
import { BLOB_MALFORMED, deliverBlob, type DeliverBlobOptions } from '../../../src/pipeline/deliver-blob.ts';
import { RecentEventIds } from '../../../src/pipeline/recent-event-ids.ts';
import { MemorySink } from '../../../src/sink/memory-sink.ts';
import { fakeNormalize, TENANT } from '../source/poller/poller-fakes.ts';

const REF = { tenantId: TENANT, contentId: 'c1', contentUri: 'https://manage.example.test/x/audit/c1' };
const CHECKPOINT = { key: { tenantId: TENANT, contentType: 'Audit.SharePoint' }, cursor: { lowerBound: '2026-11-20T00:00:00.000Z', done: { c1: '2026-11-20T00:00:00.000Z' }, updatedAt: '2026-11-20T00:00:00.000Z' } };

async function setup(mode: 'at-least-once' | 'exactly-once'): Promise<{ sink: MemorySink; options: DeliverBlobOptions; recentIds: RecentEventIds }> {
  const sink = new MemorySink({ mode });
  await sink.start();
  const recentIds = new RecentEventIds(100);
  return { sink, recentIds, options: { sink, normalize: fakeNormalize, recentIds, batchEvents: 2, finalAttempt: false, checkpoint: () => CHECKPOINT } };
}

describe('deliverBlob (DESIGN invariant 2: every record accounted for)', () => {
  it('accounts for each record exactly once: published, filtered or dead-lettered', async () => {
    const { sink, options, recentIds } = await setup('exactly-once');
    recentIds.addAll(['seen-before']);
    const records = [
      { Id: 'a', Operation: 'FileDownloaded' },
      { Id: 'a', Operation: 'FileDownloaded' },
      { Id: 'seen-before', Operation: 'FileDownloaded' },
      { Id: 'f', Operation: 'FolderCreated' },
      { Operation: 'FileDownloaded' },
      42,
      { Id: 'b', Operation: 'FileUploaded' },
      { Id: 'c', Operation: 'FileUploaded' },
    ];

    const tally = await deliverBlob(REF, fromBuffer(`\uFEFF${JSON.stringify(records)}`, 7), options);

    expect(tally.records).toBe(records.length);
    expect(tally.summary()).toEqual({ published: 3, filtered: 3, rejected: 2 });
    expect(Object.fromEntries(tally.filtered)).toEqual({ duplicate: 2, 'folder-operation': 1 });
    expect(sink.log.events.map((e) => e.event.event.id)).toEqual(['a', 'b', 'c']);
    expect(sink.log.deadLetters.map((d) => d.reason).sort()).toEqual(['missing-field', 'not-an-object']);
    expect(sink.log.checkpoints).toEqual([{ ...CHECKPOINT, publishedIds: ['a', 'b', 'c'] }]);
    expect(['a', 'b', 'c'].every((id) => recentIds.has(id))).toBe(true);
  });

  it('throws BLOB_MALFORMED before the last attempt and leaves nothing committed or remembered', async () => {
    const { sink, options, recentIds } = await setup('exactly-once');
    const torn = '[{"Id":"a","Operation":"FileDownloaded"},{"Id":"b","Operation":"FileDownloaded"},{"Id":';

    const error = await deliverBlob(REF, fromBuffer(torn), options).catch((e: unknown) => e);

    expect((error as ConnectorError).code).toBe(BLOB_MALFORMED);
    expect((error as ConnectorError).retriable).toBe(true);
    expect(sink.log.events).toEqual([]);
    expect(recentIds.has('a')).toBe(false);

    const tally = await deliverBlob(REF, fromBuffer(torn), { ...options, finalAttempt: true });
    expect(tally.summary()).toEqual({ published: 2, filtered: 0, rejected: 1 });
    expect(sink.log.deadLetters).toEqual([expect.objectContaining({ reason: 'unparsable-json', stage: 'parse', contentId: 'c1' })]);
  });

  it('aborts the unit when Kafka fails, so nothing is counted as published', async () => {
    const { sink, options, recentIds } = await setup('exactly-once');
    sink.failNext('commit', new ConnectorError('SINK_UNAVAILABLE', 'broker away', { stage: 'sink', retriable: true }));

    await expect(deliverBlob(REF, fromBuffer(JSON.stringify([{ Id: 'a', Operation: 'FileDownloaded' }])), options)).rejects.toThrow('broker away');

    expect(sink.log.events).toEqual([]);
    expect(sink.log.checkpoints).toEqual([]);
    expect(recentIds.has('a')).toBe(false);
  });

  it('commits without a cursor in at-least-once mode', async () => {
    const { sink, options } = await setup('at-least-once');
    let asked = 0;
    await deliverBlob(REF, fromBuffer(JSON.stringify([{ Id: 'a', Operation: 'FileDownloaded' }])), {
      ...options,
      checkpoint: () => {
        asked += 1;
        return CHECKPOINT;
      },
    });
    expect(asked).toBe(0);
    expect(sink.log.events).toHaveLength(1);
  });
});
