import { describe, expect, it } from 'vitest';
import { ShardCoordinator } from '../../../src/runtime/shard-coordinator.ts';
import { MemorySink, MemorySinkLog } from '../../../src/sink/memory-sink.ts';
import { ShardedSink } from '../../../src/sink/sharded-sink.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';

const shardOf = (tenantId: string): number => Number(tenantId.split('-')[1]);

function setup(options: { failLoad?: boolean } = {}) {
  const steps: string[] = [];
  const log = new MemorySinkLog();
  const sink = new ShardedSink({
    transactional: true,
    shardOf,
    create: (shard) => {
      const memory = new MemorySink({ mode: 'exactly-once', shard, log });
      const start = memory.start.bind(memory);
      const stop = memory.stop.bind(memory);
      memory.start = () => (steps.push(`fence ${shard}`), start());
      memory.stop = () => (steps.push(`close ${shard}`), stop());
      return memory;
    },
  });
  const metrics = createMetrics();
  const coordinator: ShardCoordinator = new ShardCoordinator({
    sink,
    shardOf,
    load: (shards) => {
      steps.push(`load ${shards.join(',')}`);
      return options.failLoad === true ? Promise.reject(new Error('cursors topic unreachable')) : Promise.resolve();
    },
    reconcileTenants: () => {
      steps.push(`tenants (owns tenant-1: ${coordinator.owns('tenant-1')}, tenant-2: ${coordinator.owns('tenant-2')})`);
      return Promise.resolve();
    },
    metrics,
    logger: silentLogger,
  });
  return { steps, coordinator, metrics, sink, log };
}

const gauge = async (metrics: ReturnType<typeof createMetrics>) => (await metrics.shardOwner.get()).values.map((v) => v.labels.shard).sort();

describe('ShardCoordinator (the hand-over order)', () => {
  it('assigns: fences every new shard, then reads their state, then starts their tenants', async () => {
    const { steps, coordinator, metrics } = setup();
    expect(coordinator.settled()).toBe(false);
    expect(await coordinator.change({ assigned: [1, 2], revoked: [] })).toEqual([1, 2]);
    expect(steps).toEqual(['fence 1', 'fence 2', 'load 1,2', 'tenants (owns tenant-1: true, tenant-2: true)']);
    expect(coordinator.settled()).toBe(true);
    expect((await metrics.shardsOwned.get()).values[0]?.value).toBe(2);
    expect(await gauge(metrics)).toEqual(['1', '2']);
    expect(coordinator.status(32, 'member-1')).toEqual({ count: 32, member: 'member-1', owned: [1, 2], changing: { assigning: [], revoking: [] } });
  });

  it('revokes: the shard stops counting as owned first, its tenants stop, then its sink closes', async () => {
    const { steps, coordinator, metrics, sink } = setup();
    await coordinator.change({ assigned: [1, 2], revoked: [] });
    steps.length = 0;
    expect(await coordinator.change({ assigned: [], revoked: [1] })).toEqual([2]);
    expect(steps).toEqual(['tenants (owns tenant-1: false, tenant-2: true)', 'close 1']);
    expect(sink.shards()).toEqual([2]);
    expect(await gauge(metrics)).toEqual(['2']);
    expect((await metrics.shardRebalances.get()).values.find((v) => v.labels.kind === 'revoked')?.value).toBe(1);
  });

  it('does not own a shard whose state could not be read; its fenced producer is closed again', async () => {
    const { steps, coordinator, sink } = setup({ failLoad: true });
    expect(await coordinator.change({ assigned: [1], revoked: [] })).toEqual([]);
    expect(steps).toEqual(['fence 1', 'load 1', 'close 1', 'tenants (owns tenant-1: false, tenant-2: false)']);
    expect(sink.shards()).toEqual([]);
    expect(coordinator.owns('tenant-1')).toBe(false);
  });

  it('drops a shard the group took back at once, even while a slow take-over of it is still under way', async () => {
    const { steps, coordinator, sink } = setup();
    await coordinator.change({ assigned: [1, 2], revoked: [] });
    steps.length = 0;
    coordinator.retain(new Set([2]));
    // Synchronous: /status and the supervisor see shard 1 as not owned before anything is awaited.
    expect(coordinator.owns('tenant-1')).toBe(false);
    expect(coordinator.owns('tenant-2')).toBe(true);
    expect(steps).toEqual(['tenants (owns tenant-1: false, tenant-2: true)']);
    // The change that follows closes its sink.
    await coordinator.change({ assigned: [], revoked: [1] });
    expect(sink.shards()).toEqual([2]);

    // Taken back in the middle of being taken over: fenced, then closed again, never owned.
    const taking = coordinator.change({ assigned: [3], revoked: [] });
    coordinator.retain(new Set([2]));
    expect(await taking).toEqual([2]);
    expect(sink.shards()).toEqual([2]);
  });
});
