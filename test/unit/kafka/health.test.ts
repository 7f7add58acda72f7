import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { KafkaHealth } from '../../../src/kafka/health.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';

/** A cluster that answers, fails or hangs on demand: only what the probe calls. */
function fakeKafka(mode: { now: 'ok' | 'fail' | 'hang' }): { kafka: Kafka; admins: number } {
  const counts = { admins: 0 };
  const kafka = {
    admin: () => {
      counts.admins += 1;
      return {
        connect: () => Promise.resolve(),
        disconnect: () => Promise.resolve(),
        describeCluster: () =>
          mode.now === 'ok' ? Promise.resolve({ brokers: [] }) : mode.now === 'fail' ? Promise.reject(new Error('Connection error: ECONNREFUSED')) : new Promise(() => undefined),
      };
    },
  } as unknown as Kafka;
  return {
    kafka,
    get admins() {
      return counts.admins;
    },
  };
}

describe('KafkaHealth', () => {
  it('follows the cluster: reachable, unreachable with the reason (also on a hung probe), reachable again', async () => {
    const metrics = createMetrics(new Registry());
    const mode = { now: 'ok' as 'ok' | 'fail' | 'hang' };
    const fake = fakeKafka(mode);
    const health = new KafkaHealth({ kafka: fake.kafka, intervalMs: 60_000, timeoutMs: 50, metrics, logger: silentLogger });
    const up = async (): Promise<number | undefined> => (await metrics.kafkaUp.get()).values[0]?.value;
    expect(health.reachable()).toBe(false);

    await health.start();
    expect([health.reachable(), health.detail(), await up()]).toEqual([true, '', 1]);

    mode.now = 'fail';
    await health.probe();
    expect([health.reachable(), health.detail(), await up()]).toEqual([false, 'Connection error: ECONNREFUSED', 0]);

    mode.now = 'hang';
    await health.probe();
    expect([health.reachable(), health.detail()]).toEqual([false, 'no answer within 50 ms']);

    mode.now = 'ok';
    await health.probe();
    expect([health.reachable(), await up()]).toEqual([true, 1]);
    // A failed probe drops its admin client; the next one builds a fresh one.
    expect(fake.admins).toBe(3);
    await health.stop();
  });
});
