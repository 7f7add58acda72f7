import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/contracts/errors.ts';
import { fromBuffer } from '../../../src/parse/records.ts';
import { BLOB_MALFORMED, deliverBlob, type DeliverBlobOptions } from '../../../src/pipeline/deliver-blob.ts';
import { RecentEventIds } from '../../../src/pipeline/recent-event-ids.ts';
import { MemorySink } from '../../../src/sink/memory-sink.ts';
import type { BlobTally } from '../../../src/pipeline/tally.ts';
import { FixedCursorSource } from '../../contract/sink.contract.ts';
import { fakeNormalize, TENANT } from '../source/poller/poller-fakes.ts';

const REF = { tenantId: TENANT, contentId: 'c1', contentUri: 'https://manage.example.test/x/audit/c1' };

interface Setup {
  sink: MemorySink;
  options: DeliverBlobOptions;
  recentIds: RecentEventIds;
  source: FixedCursorSource;
  durable: BlobTally[];
}

async function setup(mode: 'at-least-once' | 'exactly-once', maxRecords?: number): Promise<Setup> {
  const sink = new MemorySink({ mode, ...(maxRecords === undefined ? {} : { group: { maxRecords } }) });
  await sink.start();
  const recentIds = new RecentEventIds(100);
  const source = new FixedCursorSource(TENANT, '2026-11-20T00:00:00.000Z');
  const durable: BlobTally[] = [];
  const options: DeliverBlobOptions = {
    sink,
    normalize: fakeNormalize,
    recentIds,
    batchEvents: 2,
    finalAttempt: false,
    cursor: source,
    startAt: 0,
    onDurable: (tally) => durable.push(tally),
  };
  return { sink, recentIds, options, source, durable };
}

const records = (n: number, from = 0): Array<{ Id: string; Operation: string }> =>
  Array.from({ length: n }, (_, i) => ({ Id: `r${from + i}`, Operation: 'FileDownloaded' }));

describe('deliverBlob (DESIGN invariant 2: every record accounted for)', () => {
  it('accounts for each record exactly once: published, filtered or dead-lettered', async () => {
    const { sink, options, recentIds, source, durable } = await setup('exactly-once');
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
    expect(sink.log.checkpoints).toEqual([{ key: source.key, cursor: source.cursor }]);
    expect(source.durable.map((d) => d.progress)).toEqual([new Map([['c1', { done: true }]])]);
    expect(durable.map((t) => t.summary())).toEqual([{ published: 3, filtered: 3, rejected: 2 }]);
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

  it('asks for no cursor in at-least-once mode but reports the blob durable', async () => {
    const { sink, options, source } = await setup('at-least-once');
    await deliverBlob(REF, fromBuffer(JSON.stringify([{ Id: 'a', Operation: 'FileDownloaded' }])), options);
    expect(source.asked).toEqual([]);
    expect(source.durable.map((d) => d.progress)).toEqual([new Map([['c1', { done: true }]])]);
    expect(sink.log.events).toHaveLength(1);
  });
});

describe('deliverBlob in slices (a blob larger than a group)', () => {
  it('commits a slice whenever the unit is full, each with the position reached, and counts each slice once durable', async () => {
    const { sink, options, source, durable } = await setup('exactly-once', 3);
    // Events reach the unit in batches of 2, so the unit is full (3 records) after the 4th record.
    const tally = await deliverBlob(REF, fromBuffer(JSON.stringify(records(9))), options);
    expect(tally.summary()).toEqual({ published: 9, filtered: 0, rejected: 0 });
    expect(source.durable.map((d) => d.progress.get('c1'))).toEqual([
      { done: false, records: 4 },
      { done: false, records: 8 },
      { done: true },
    ]);
    expect(durable.map((t) => t.summary().published)).toEqual([4, 4, 1]);
    expect(sink.log.events.map((e) => e.event.event.id)).toEqual(records(9).map((r) => r.Id));
    expect(sink.log.groups).toBe(3);
  });

  it('resumes after the position of the last durable slice: nothing lost, nothing repeated', async () => {
    const { sink, options, source } = await setup('exactly-once', 3);
    const content = JSON.stringify(records(7));
    // The second slice's group fails: the first slice stays, the rest is retried from its position.
    let slices = 0;
    const failing: DeliverBlobOptions = {
      ...options,
      onDurable: () => {
        slices += 1;
        if (slices === 1) sink.failNext('commit', new ConnectorError('SINK_UNAVAILABLE', 'broker away', { stage: 'sink', retriable: true }));
      },
    };
    await expect(deliverBlob(REF, fromBuffer(content), failing)).rejects.toThrow('broker away');
    const position = source.durable.at(-1)?.progress.get('c1');
    expect(position).toEqual({ done: false, records: 4 });

    await deliverBlob(REF, fromBuffer(content), { ...options, startAt: 4 });
    expect(sink.log.events.map((e) => e.event.event.id)).toEqual(records(7).map((r) => r.Id));
  });
});
