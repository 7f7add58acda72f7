import { describe, expect, it } from 'vitest';
import type { CursorSource } from '../../../src/contracts/sink.ts';
import { MemorySink, MemorySinkLog } from '../../../src/sink/memory-sink.ts';
import { ShardedSink } from '../../../src/sink/sharded-sink.ts';

const shardOf = (tenantId: string): number => Number(tenantId.split('-')[1]);

function sharded(log = new MemorySinkLog()): { sink: ShardedSink; log: MemorySinkLog } {
  return { log, sink: new ShardedSink({ transactional: true, shardOf, create: (shard) => new MemorySink({ mode: 'exactly-once', shard, log }) }) };
}

const source = (tenantId: string): CursorSource => ({
  key: { tenantId, contentType: 'Audit.SharePoint' },
  cursorAfter: () => ({ lowerBound: '2026-01-01T00:00:00.000Z', done: {}, updatedAt: '2026-01-01T00:00:00.000Z' }),
  committed: () => undefined,
});

describe('ShardedSink', () => {
  it('routes a tenant to its shard\'s sink and refuses tenants of shards not owned here (retriable)', async () => {
    const { sink, log } = sharded();
    await sink.openShard(1);
    const unit = await sink.begin('tenant-1');
    await unit.attach([{ topic: 'side', key: 'k', value: 'v' }]);
    await unit.commit();
    expect(log.keyed).toHaveLength(1);
    await expect(sink.begin('tenant-2')).rejects.toMatchObject({ code: 'SINK_SHARD_NOT_OWNED', retriable: true });
    await expect(sink.saveCursor(source('tenant-2'))).rejects.toMatchObject({ code: 'SINK_SHARD_NOT_OWNED' });
    await sink.saveCursor(source('tenant-1'), { promptly: true });
    expect(log.checkpoints.map((c) => c.key.tenantId)).toEqual(['tenant-1']);
    expect(sink.shards()).toEqual([1]);
  });

  it('fences per shard: a newer owner of shard 1 fences only this replica\'s shard 1', async () => {
    const log = new MemorySinkLog();
    const { sink: old } = sharded(log);
    await old.openShard(1);
    await old.openShard(2);
    const stale = await old.begin('tenant-1');
    await stale.attach([{ topic: 'side', key: 'stale', value: null }]);
    const { sink: newer } = sharded(log);
    await newer.openShard(1);
    await expect(stale.commit()).rejects.toMatchObject({ code: 'SINK_FENCED' });
    const other = await old.begin('tenant-2');
    await other.attach([{ topic: 'side', key: 'other', value: null }]);
    await other.commit();
    expect(log.keyed.map((k) => k.key)).toEqual(['other']);
  });

  it('closes a shard: its tenants are refused afterwards, the others keep going', async () => {
    const { sink } = sharded();
    await sink.openShard(1);
    await sink.openShard(2);
    await sink.closeShard(1);
    await expect(sink.begin('tenant-1')).rejects.toMatchObject({ code: 'SINK_SHARD_NOT_OWNED' });
    await expect(sink.begin('tenant-2')).resolves.toBeDefined();
    await sink.stop();
    expect(sink.shards()).toEqual([]);
  });
});
