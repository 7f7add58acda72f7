// Smoke test of kafkajs 2.2.4 against the pinned Kafka 4.x broker: every feature the connector
// relies on, proven on the wire (kafkajs' own CI never ran a broker newer than 2.4).
import { ConfigResourceTypes, Partitioners, type Producer } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestTopics, readAll, requireBroker, testKafka, uniqueName } from '../support/kafka.ts';
import { waitFor } from '../support/time.ts';

const kafka = testKafka('broker-smoke');
const producers: Producer[] = [];

function producer(config: Parameters<typeof kafka.producer>[0] = {}): Producer {
  const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, ...config });
  producers.push(p);
  return p;
}

function messages(prefix: string, count: number): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, i) => ({ key: `${prefix}-${i}`, value: JSON.stringify({ prefix, i }) }));
}

beforeEach(requireBroker);

afterEach(async () => {
  await Promise.all(producers.splice(0).map((p) => p.disconnect().catch(() => undefined)));
});

describe('Kafka broker with kafkajs', () => {
  it('accepts idempotent produce with acks=-1 and gives the records back', async () => {
    const topic = uniqueName('smoke-idempotent');
    await createTestTopics([topic], { partitions: 2 });
    const p = producer({ idempotent: true, maxInFlightRequests: 1 });
    await p.connect();

    const metadata = await p.send({ topic, acks: -1, messages: messages('a', 5) });

    expect(metadata.every((m) => m.errorCode === 0)).toBe(true);
    const read = await readAll(topic, { isolation: 'read_committed', deadlineMs: 30_000 });
    expect(read.map((m) => m.key).sort()).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
  });

  it('hides aborted transactions from read_committed consumers only', async () => {
    const topic = uniqueName('smoke-txn');
    await createTestTopics([topic]);
    const p = producer({ transactionalId: uniqueName('smoke-txn'), idempotent: true, maxInFlightRequests: 1 });
    await p.connect();

    const committed = await p.transaction();
    await committed.send({ topic, acks: -1, messages: messages('committed', 2) });
    await committed.commit();
    const aborted = await p.transaction();
    await aborted.send({ topic, acks: -1, messages: messages('aborted', 2) });
    await aborted.abort();

    const readCommitted = await readAll(topic, { isolation: 'read_committed', deadlineMs: 30_000 });
    expect(readCommitted.map((m) => m.key)).toEqual(['committed-0', 'committed-1']);
    const readUncommitted = await readAll(topic, { isolation: 'read_uncommitted', deadlineMs: 30_000 });
    expect(readUncommitted.map((m) => m.key)).toEqual(['committed-0', 'committed-1', 'aborted-0', 'aborted-1']);
  });

  it('reports the last stable offset through admin.fetchTopicOffsets while a transaction is open', async () => {
    // readToEnd relies on this: kafkajs' admin ListOffsets asks for READ_COMMITTED.
    const topic = uniqueName('smoke-lso');
    await createTestTopics([topic]);
    const plain = producer({ idempotent: true });
    await plain.connect();
    await plain.send({ topic, acks: -1, messages: messages('before', 3) });
    const p = producer({ transactionalId: uniqueName('smoke-lso'), idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    const open = await p.transaction();
    await open.send({ topic, acks: -1, messages: messages('open', 2) });

    const admin = kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchTopicOffsets(topic);
      expect(offsets?.high).toBe('3');
    } finally {
      await admin.disconnect();
      await open.abort();
    }
  });

  it('lets a consumer join a group and receive an assignment', async () => {
    const topic = uniqueName('smoke-group');
    await createTestTopics([topic], { partitions: 3 });
    const consumer = kafka.consumer({ groupId: uniqueName('smoke-group'), maxWaitTimeInMs: 100 });
    let assignment: Record<string, number[]> | undefined;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      assignment = payload.memberAssignment;
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: () => Promise.resolve() });
      await waitFor(() => assignment !== undefined, { timeoutMs: 30_000, what: 'GROUP_JOIN' });
      expect(assignment?.[topic]?.slice().sort()).toEqual([0, 1, 2]);
    } finally {
      await consumer.disconnect();
    }
  });

  it('creates compacted topics', async () => {
    const topic = uniqueName('smoke-compacted');
    await createTestTopics([topic], { compacted: true });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
      });
      const entries = described.resources[0]?.configEntries ?? [];
      expect(entries.find((e) => e.configName === 'cleanup.policy')?.configValue).toBe('compact');
    } finally {
      await admin.disconnect();
    }
  });

  it('resolves an empty transaction abort (the fencing step) and keeps the producer usable', async () => {
    const topic = uniqueName('smoke-fence');
    await createTestTopics([topic]);
    const p = producer({ transactionalId: uniqueName('smoke-fence'), idempotent: true, maxInFlightRequests: 1 });
    await p.connect();

    const fence = await p.transaction();
    await expect(fence.abort()).resolves.toBeUndefined();
    const next = await p.transaction();
    await next.send({ topic, acks: -1, messages: messages('after-fence', 1) });
    await next.commit();

    const read = await readAll(topic, { isolation: 'read_committed', deadlineMs: 30_000 });
    expect(read.map((m) => m.key)).toEqual(['after-fence-0']);
  });
});
