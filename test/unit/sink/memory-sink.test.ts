import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/contracts/errors.ts';
import { MemorySink, MemorySinkLog } from '../../../src/sink/memory-sink.ts';
import { sampleEvent, sinkContract } from '../../contract/sink.contract.ts';

sinkContract('MemorySink', () => {
  const log = new MemorySinkLog();
  return Promise.resolve({
    createSink: ({ mode, shard }) => new MemorySink({ mode, log, ...(shard === undefined ? {} : { shard }) }),
    committed: () =>
      Promise.resolve({
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
    const checkpoint = { key: { tenantId: 'tenant-a', contentType: 'Audit.SharePoint' }, cursor: { lowerBound: 'x', done: {}, updatedAt: 'y' } };
    await expect(unit.commit(checkpoint)).rejects.toBe(failure);
    await unit.abort();
    expect(sink.log.events).toEqual([]);

    const retry = await sink.begin('tenant-a');
    await retry.send([sampleEvent('e1')]);
    await retry.commit(checkpoint);
    expect(sink.log.events.map((e) => e.event.event.id)).toEqual(['e1']);
  });

  it('requires a checkpoint for an exactly-once commit', async () => {
    const sink = new MemorySink({ mode: 'exactly-once' });
    await sink.start();
    const unit = await sink.begin('tenant-a');
    await expect(unit.commit()).rejects.toThrow(/needs the checkpoint/);
  });
});
