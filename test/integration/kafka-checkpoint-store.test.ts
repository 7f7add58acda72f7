import { Partitioners } from 'kafkajs';
import { beforeEach, describe, expect, it } from 'vitest';
import { KafkaCheckpointStore } from '../../src/kafka/checkpoint-store.ts';
import { encodeCursorRecord } from '../../src/kafka/cursor-record.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createKafka } from '../../src/kafka/client.ts';
import { checkpointStoreContract } from '../contract/checkpoint-store.contract.ts';
import { createTestTopics, kafkaBrokers, requireBroker, uniqueName } from '../support/kafka.ts';

beforeEach(requireBroker);

const kafka = createKafka({ clientId: 'checkpoint-store-test', brokers: kafkaBrokers(), logger: silentLogger });
const store = (topic: string) => new KafkaCheckpointStore({ kafka, topic, readDeadlineMs: 30_000, logger: silentLogger });

checkpointStoreContract('KafkaCheckpointStore', async () => {
  const topic = uniqueName('cursors');
  await createTestTopics([topic], { partitions: 3, compacted: true });
  return { createStore: () => store(topic) };
});

describe('KafkaCheckpointStore on the wire', () => {
  it('honours tombstones and skips unreadable records, keeping the previous cursor', async () => {
    const topic = uniqueName('cursors');
    await createTestTopics([topic], { compacted: true });
    const keyA = { tenantId: 'tenant-a', contentType: 'Audit.SharePoint' };
    const keyB = { tenantId: 'tenant-b', contentType: 'Audit.SharePoint' };
    const good = { lowerBound: '2026-11-20T10:00:00.000Z', done: {}, updatedAt: '2026-11-20T10:00:00.000Z' };
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      await producer.send({
        topic,
        messages: [
          encodeCursorRecord(keyA, good),
          { key: 'tenant-a|Audit.SharePoint', value: '{"lowerBound": 42}' },
          encodeCursorRecord(keyB, good),
          { key: 'tenant-b|Audit.SharePoint', value: null },
        ],
      });
    } finally {
      await producer.disconnect();
    }

    const s = store(topic);
    await s.start();
    try {
      expect(s.load(keyA)).toEqual(good);
      expect(s.load(keyB)).toBeUndefined();
    } finally {
      await s.stop();
    }
  });

  it('reads many cursors across partitions to the end', async () => {
    const topic = uniqueName('cursors');
    await createTestTopics([topic], { partitions: 4, compacted: true });
    const writer = store(topic);
    await writer.start();
    const keys = Array.from({ length: 40 }, (_, i) => ({ tenantId: `tenant-${i}`, contentType: 'Audit.SharePoint' }));
    await Promise.all(keys.map((key, i) => writer.save(key, { lowerBound: `2026-11-20T10:00:${String(i % 60).padStart(2, '0')}.000Z`, done: {}, updatedAt: 'x' })));
    await writer.stop();

    const reader = store(topic);
    await reader.start();
    try {
      expect(keys.every((key) => reader.load(key) !== undefined)).toBe(true);
      expect(reader.load({ tenantId: 'tenant-7', contentType: 'Audit.SharePoint' })?.lowerBound).toBe('2026-11-20T10:00:07.000Z');
    } finally {
      await reader.stop();
    }
  });
});
