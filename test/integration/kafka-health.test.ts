import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.ts';
import { KafkaHealth } from '../../src/kafka/health.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';
import { kafkaBrokers, requireBroker } from '../support/kafka.ts';

beforeEach(requireBroker);

describe('KafkaHealth against real kafkajs clients', () => {
  it('is reachable with the broker, and unreachable within the timeout where nothing listens', async () => {
    for (const [brokers, reachable] of [
      [kafkaBrokers(), true],
      [['127.0.0.1:1'], false],
    ] as const) {
      const metrics = createMetrics(new Registry());
      const health = new KafkaHealth({
        kafka: createKafka({ clientId: 'health-test', brokers, logger: silentLogger }),
        intervalMs: 60_000,
        timeoutMs: 5_000,
        metrics,
        logger: silentLogger,
      });
      const started = Date.now();
      await health.start();
      expect(Date.now() - started).toBeLessThan(6_000);
      expect(health.reachable()).toBe(reachable);
      expect((await metrics.kafkaUp.get()).values[0]?.value).toBe(reachable ? 1 : 0);
      if (!reachable) expect(health.detail()).toMatch(/ECONNREFUSED|Connection|no answer/);
      await health.stop();
    }
  });
});
