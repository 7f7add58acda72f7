import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { ConnectorConfig } from '../../src/config/schema.ts';
import { createConnector } from '../../src/runtime/connector.ts';
import { ManualClock } from '../../src/simulator/index.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { expectWithinReach, harnessPerTest } from '../support/pipeline-harness.ts';
import { PROJECT_ROOT } from '../support/promql.ts';

/**
 * The connector publishes through the local broker's SASL_SSL listener: TLS with our own CA and a
 * client certificate the broker requires, and SASL SCRAM-SHA-512 or PLAIN. `scripts/kafka.sh start`
 * adds the listener when KAFKA_SASL_SSL_PORT is set (scripts/test.sh sets it).
 */
interface Listener {
  port: number;
  caFile: string;
  certificateFile: string;
  privateKeyFile: string;
  plain: { username: string; passwordFile: string };
  scramSha512: { username: string; passwordFile: string };
}

function listener(): Listener {
  const dir = join(process.env['KAFKA_RUN_DIR'] ?? join(PROJECT_ROOT, '.run/kafka'), 'sasl-ssl');
  const portFile = join(dir, 'port');
  if (!existsSync(portFile)) {
    const port = process.env['KAFKA_SASL_SSL_PORT'] ?? `<KAFKA_PORT + 2>`;
    throw new Error(`The broker has no SASL_SSL listener (no ${portFile}): stop it and start it with KAFKA_SASL_SSL_PORT=${port} scripts/kafka.sh start`);
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'listener.json'), 'utf8')) as Omit<Listener, 'port'>;
  return { ...manifest, port: Number(process.env['KAFKA_SASL_SSL_PORT'] ?? readFileSync(portFile, 'utf8').trim()) };
}

function secureKafka(l: Listener, mechanism: 'scram-sha-512' | 'plain', overrides: Partial<ConnectorConfig['kafka']> = {}): Partial<ConnectorConfig['kafka']> {
  const user = mechanism === 'plain' ? l.plain : l.scramSha512;
  return {
    brokers: [`127.0.0.1:${l.port}`],
    tls: { caFile: l.caFile, certificateFile: l.certificateFile, privateKey: { file: l.privateKeyFile } },
    sasl: { mechanism, username: user.username, password: { file: user.passwordFile } },
    ...overrides,
  };
}

describe('Kafka over SASL_SSL (scripts/kafka.sh with KAFKA_SASL_SSL_PORT)', () => {
  const startHarness = harnessPerTest();

  for (const mechanism of ['scram-sha-512', 'plain'] as const) {
    it(`publishes every event exactly once through TLS with a client certificate and SASL ${mechanism}`, async () => {
      const l = listener();
      const harness = await startHarness({ simulator: { seed: `sasl-${mechanism}`, clock: new ManualClock(Date.now()), eventsPerHour: 20, tenants: 1 } });
      const config: ConnectorConfig = { ...harness.config, kafka: { ...harness.config.kafka, ...secureKafka(l, mechanism) } };
      const connector = await createConnector(config, { logger: silentLogger, env: harness.env });
      await connector.start();
      try {
        // Readiness includes the Kafka probe, which goes through the same listener.
        const ready = await fetch(`${connector.metricsUrl()}/readyz`);
        expect(await ready.text()).toContain('[+]kafka ok');
        await harness.waitCaughtUp(connector, 120_000);
      } finally {
        await connector.stop();
      }
      const tenant = harness.sim.tenants[0]!.id;
      const expected = await harness.expectedEventIds(tenant);
      expect(expected.required.size).toBeGreaterThan(0);
      // Read back over PLAINTEXT: what went in through SASL_SSL is in the same topic, once each.
      const events = await harness.readEvents();
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      expectWithinReach(new Set(events.map((e) => e.id)), expected);
      expect((await connector.metrics.kafkaCommitDuration.get()).values.some((v) => v.labels.result === 'ok' && v.value > 0)).toBe(true);
    });
  }

  it('is refused with a wrong password, and without the client certificate', async () => {
    const l = listener();
    const client = (extra: object): Kafka =>
      new Kafka({ clientId: 'sasl-negative', brokers: [`127.0.0.1:${l.port}`], logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 0 }, ...extra });
    const tls = { ca: [readFileSync(l.caFile, 'utf8')], cert: readFileSync(l.certificateFile, 'utf8'), key: readFileSync(l.privateKeyFile, 'utf8') };
    // A fresh object per client: kafkajs stores its authenticator (holding the password) on the sasl object it is given.
    const scram = (password = readFileSync(l.scramSha512.passwordFile, 'utf8').trim()) => ({ mechanism: 'scram-sha-512', username: l.scramSha512.username, password }) as const;
    const attempt = async (kafka: Kafka): Promise<string> => {
      const admin = kafka.admin();
      try {
        await admin.connect();
        await admin.listTopics();
        return 'connected';
      } catch (error) {
        return (error as Error).message;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    };
    expect(await attempt(client({ ssl: tls, sasl: scram() }))).toBe('connected');
    expect(await attempt(client({ ssl: tls, sasl: scram('wrong') }))).toMatch(/SASL SCRAM SHA512 authentication failed/);
    expect(await attempt(client({ ssl: tls, sasl: { mechanism: 'plain', username: l.plain.username, password: 'wrong' } }))).toMatch(/SASL PLAIN authentication failed/);
    expect(await attempt(client({ ssl: { ca: tls.ca }, sasl: scram() }))).toMatch(/bad certificate|certificate required|Connection error/i);
  });
});
