import { Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import type { ShardChange } from '../../../src/contracts/shards.ts';
import { createKafka } from '../../../src/kafka/client.ts';
import { KafkaCheckpointStore } from '../../../src/kafka/checkpoint-store.ts';
import { encodeCursorRecord } from '../../../src/kafka/cursor-record.ts';
import { readToEnd } from '../../../src/kafka/read-to-end.ts';
import { KafkaShardGroup, shardOf } from '../../../src/kafka/shard-group.ts';
import { ensureTopics } from '../../../src/kafka/topics.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { kafkaBrokers, uniqueName } from '../../support/kafka.ts';
import { waitFor } from '../../support/time.ts';

const kafka = createKafka({ clientId: 'shard-group-test', brokers: kafkaBrokers(), logger: silentLogger });
const SHARDS = 6;
const groups: KafkaShardGroup[] = [];
afterAll(async () => {
  await Promise.allSettled(groups.map((g) => g.stop()));
});

async function topic(kind: string, partitions = SHARDS): Promise<string> {
  const name = uniqueName(kind);
  await ensureTopics(kafka, { events: uniqueName('e'), deadLetter: uniqueName('d'), cursors: name, partitions, replicationFactor: 1 });
  return name;
}

/** A member that owns whatever it is given, and records the changes. */
function member(registry: string, groupId: string): { group: KafkaShardGroup; owned: () => number[]; changes: ShardChange[] } {
  let owned = new Set<number>();
  const changes: ShardChange[] = [];
  const group = new KafkaShardGroup({ kafka, topic: registry, count: SHARDS, groupId, sessionTimeoutMs: 6_000, rebalanceTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, logger: silentLogger });
  groups.push(group);
  group.start(
    {
      change: (change) => {
        changes.push(change);
        owned = new Set([...owned].filter((s) => !change.revoked.includes(s)).concat(change.assigned));
        return Promise.resolve([...owned]);
      },
      retain: (assigned) => (owned = new Set([...owned].filter((s) => assigned.has(s)))),
    },
    60_000,
  ).catch(() => undefined);
  return { group, owned: () => [...owned].sort((a, b) => a - b), changes };
}

describe('the shard group (real broker)', () => {
  it('maps a tenant to the partition the client writes its registry record to', async () => {
    const registry = await topic('registry');
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    const tenants = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(8, '0')}-1111-4111-8111-111111111111`);
    await producer.send({ topic: registry, messages: tenants.map((id) => ({ key: id, value: '{}' })) });
    await producer.disconnect();
    const seen = new Map<string, number>();
    await readToEnd(kafka, { topic: registry, deadlineMs: 30_000, onMessage: (message, partition) => seen.set(message.key?.toString() ?? '', partition) });
    expect(seen.size).toBe(40);
    for (const [tenant, partition] of seen) expect(shardOf(tenant, SHARDS)).toBe(partition);
    expect(new Set(seen.values()).size).toBeGreaterThan(3);
  });

  it('splits the shards between members, and gives a leaving member\'s shards to the other', async () => {
    const registry = await topic('registry');
    const groupId = uniqueName('shards');
    const a = member(registry, groupId);
    await waitFor(() => a.owned().length === SHARDS, { timeoutMs: 30_000, what: 'the first member to own every shard' });
    const b = member(registry, groupId);
    await waitFor(() => a.owned().length === 3 && b.owned().length === 3, { timeoutMs: 30_000, what: 'the shards to be split' });
    expect([...a.owned(), ...b.owned()].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5]);
    // Sticky: the first member gave up three shards and got none back.
    expect(a.changes.slice(1).every((c) => c.assigned.length === 0)).toBe(true);
    await b.group.stop();
    expect(b.owned()).toEqual([]);
    await waitFor(() => a.owned().length === SHARDS, { timeoutMs: 30_000, what: 'the remaining member to take every shard back' });
    // restart (a commit without an answer): the shard is given up and taken over again, nothing else moves.
    const before = a.changes.length;
    a.group.restart(2);
    await waitFor(() => a.changes.length >= before + 2 && a.owned().length === SHARDS, { timeoutMs: 30_000, what: 'shard 2 to be taken over again' });
    expect(a.changes.slice(before)).toEqual([
      { revoked: [2], assigned: [] },
      { revoked: [], assigned: [2] },
    ]);
  });
});

describe('KafkaCheckpointStore with shard partitions', () => {
  it('prefers a cursor in the tenant\'s own partition; one elsewhere (before scale-out, or copied) counts until then', async () => {
    const cursors = await topic('cursors');
    const tenant = 'aaaaaaaa-1111-4111-8111-111111111111';
    const own = shardOf(tenant, SHARDS);
    const other = (own + 1) % SHARDS;
    const key = { tenantId: tenant, contentType: 'Audit.SharePoint' };
    const cursor = (lowerBound: string) => ({ lowerBound, done: {}, updatedAt: lowerBound });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const store = () => new KafkaCheckpointStore({ kafka, topic: cursors, readDeadlineMs: 30_000, logger: silentLogger, partitionOf: (id) => shardOf(id, SHARDS) });
    try {
      await producer.send({ topic: cursors, messages: [{ ...encodeCursorRecord(key, cursor('2026-01-01T00:00:00.000Z')), partition: other }] });
      const first = store();
      await first.start();
      expect(first.load(key)?.lowerBound).toBe('2026-01-01T00:00:00.000Z');
      // The store writes to the own partition; an older record elsewhere, written later, does not win.
      await first.save(key, cursor('2026-01-02T00:00:00.000Z'));
      await producer.send({ topic: cursors, messages: [{ ...encodeCursorRecord(key, cursor('2025-12-01T00:00:00.000Z')), partition: other }] });
      await first.reload();
      expect(first.load(key)?.lowerBound).toBe('2026-01-02T00:00:00.000Z');
      // A tombstone in the own partition hides the legacy record too.
      await first.forget(key);
      await first.stop();
      const second = store();
      await second.start();
      expect(second.load(key)).toBeUndefined();
      await second.stop();
    } finally {
      await producer.disconnect();
    }
  });
});
