import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.ts';
import { ensureTopics } from '../../src/kafka/topics.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';
import { kafkaBrokers, requireBroker, uniqueName } from '../support/kafka.ts';

beforeEach(requireBroker);

/** Produce and commit latency and aborts are measured inside createKafka, for every producer it makes. */
describe('Kafka client metrics against the broker', () => {
  it('times sends and commits, and counts aborts of transactions that sent something (not the fencing one)', async () => {
    const metrics = createMetrics(new Registry());
    const kafka = createKafka({ clientId: 'client-metrics-test', brokers: kafkaBrokers(), metrics, logger: silentLogger });
    const topic = uniqueName('client-metrics');
    await ensureTopics(kafka, { events: topic, deadLetter: `${topic}-dl`, cursors: `${topic}-cursors`, partitions: 1, replicationFactor: 1 });
    const producer = kafka.producer({ transactionalId: uniqueName('client-metrics-tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      // What the sink does on start to fence older producers: an empty transaction, aborted.
      await (await producer.transaction()).abort();
      const committed = await producer.transaction();
      await committed.send({ topic, messages: [{ value: 'a' }, { value: 'b' }] });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: [{ value: 'c' }] });
      await aborted.abort();
    } finally {
      await producer.disconnect();
    }
    const count = async (histogram: typeof metrics.kafkaProduceDuration, result: string): Promise<number> =>
      (await histogram.get()).values.find((v) => v.metricName?.endsWith('_count') === true && v.labels.result === result)?.value ?? 0;
    expect(await count(metrics.kafkaProduceDuration, 'ok')).toBe(2);
    expect(await count(metrics.kafkaProduceDuration, 'error')).toBe(0);
    expect(await count(metrics.kafkaCommitDuration, 'ok')).toBe(1);
    expect((await metrics.kafkaTransactionAborts.get()).values[0]?.value).toBe(1);
  });
});
