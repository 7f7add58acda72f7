// A KafkaSink in a process of its own that sends one group of units of two tenants and then waits
// before committing, so a test can kill -9 it between produce and commit
// (test/integration/kafka-sink.test.ts). Prints PRODUCED once the records are in the log.
import { createKafka } from '../../../src/kafka/client.ts';
import type { KafkaSinkTopics } from '../../../src/kafka/sink.ts';
import { createKafkaSink, type KafkaClientName } from '../../../src/kafka/sink-client.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { FixedCursorSource, sampleEvent } from '../../contract/sink.contract.ts';

const brokers = (process.env.CHILD_BROKERS ?? '').split(',');
const topics = JSON.parse(process.env.CHILD_TOPICS ?? '{}') as KafkaSinkTopics;
const client = (process.env.CHILD_CLIENT ?? 'kafkajs') as KafkaClientName;
const kafka = createKafka({ clientId: 'kill9-child', brokers, logger: silentLogger });
const sink = createKafkaSink(client, { kafka, clientId: 'kill9-child', brokers }, {
  topics,
  mode: 'exactly-once',
  shard: 0,
  transactionalIdPrefix: process.env.CHILD_PREFIX ?? 'kill9',
  compression: 'gzip',
  maxBatchMessages: 500,
  group: { intervalMs: 50, maxRecords: 10_000, maxBytes: 4 * 1024 * 1024 },
  transactionTimeoutMs: 60_000,
  logger: silentLogger,
  beforeCommit: async () => {
    process.stdout.write('PRODUCED\n');
    await new Promise(() => undefined);
  },
});
await sink.start();
const units = [
  { tenant: 'tenant-a', ids: ['a1', 'a2'] },
  { tenant: 'tenant-b', ids: ['b1'] },
];
await Promise.all(
  units.map(async ({ tenant, ids }, i) => {
    const unit = await sink.begin(tenant);
    await unit.send(ids.map((id) => sampleEvent(id, tenant)));
    await unit.commit({ source: new FixedCursorSource(tenant, '2026-11-20T10:00:00.000Z'), contentId: `blob-${i}` });
  }),
);
