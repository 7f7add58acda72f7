import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/contracts/errors.ts';
import { MemorySink, MemorySinkLog } from '../../../src/sink/memory-sink.ts';
import { FixedCursorSource, sampleEvent, sinkContract } from '../../contract/sink.contract.ts';

sinkContract('MemorySink', () => {
  const log = new MemorySinkLog();
  return Promise.resolve({
    sideTopic: 'side-topic',
    createSink: ({ mode, shard, groupIntervalMs }) =>
      new MemorySink({ mode, log, ...(shard === undefined ? {} : { shard }), ...(groupIntervalMs === undefined ? {} : { group: { intervalMs: groupIntervalMs } }) }),
    committed: () =>
      Promise.resolve({
        keyed: log.keyed.map(({ topic, key, value }) => ({ topic, key, value })),
        events: log.events.map(({ tenantId, event }) => ({ tenantId, id: event.event.id })),
        deadLetters: log.deadLetters.map(({ tenantId, reason, recordId }) => ({ tenantId, reason, recordId })),
        checkpoints: log.checkpoints.map(({ key, cursor }) => ({ key: `${key.tenantId}|${key.contentType}`, cursor })),
      }),
  });
});

describe('MemorySink fault injection', () => {
  it('fails the next operation once, then works again', async () => {
    const sink = new MemorySink({ mode: 'exactly-once' });
    await sink.start();
    const failure = new ConnectorError('SINK_UNAVAILABLE', 'broker away', { stage: 'sink', retriable: true });
    sink.failNext('commit', failure);

    const unit = await sink.begin('tenant-a');
    await unit.send([sampleEvent('e1')]);
    const checkpoint = { source: new FixedCursorSource('tenant-a', 'x'), contentId: 'blob-1' };
    await expect(unit.commit(checkpoint)).rejects.toBe(failure);
    await unit.abort();
    expect(sink.log.events).toEqual([]);

    const retry = await sink.begin('tenant-a');
    await retry.send([sampleEvent('e1')]);
    await retry.commit(checkpoint);
    expect(sink.log.events.map((e) => e.event.event.id)).toEqual(['e1']);
  });

  it('writes nothing at all for a group whose sources have no change', async () => {
    const sink = new MemorySink({ mode: 'exactly-once' });
    await sink.start();
    await sink.saveCursor(new FixedCursorSource('tenant-a', undefined));
    expect(sink.log.groups).toBe(0);
  });
});
