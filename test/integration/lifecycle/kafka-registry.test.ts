import { Partitioners } from 'kafkajs';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TenantRecord } from '../../../src/contracts/tenant-registry.ts';
import { createKafka } from '../../../src/kafka/client.ts';
import { KafkaTenantRegistry } from '../../../src/kafka/registry.ts';
import { newTenantRecord } from '../../../src/lifecycle/records.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { createTestTopics, kafkaBrokers, requireBroker, uniqueName } from '../../support/kafka.ts';
import { waitFor } from '../../support/time.ts';

beforeEach(requireBroker);

const kafka = createKafka({ clientId: 'registry-test', brokers: kafkaBrokers(), logger: silentLogger });
const registry = (topic: string) => new KafkaTenantRegistry({ kafka, topic, readDeadlineMs: 30_000, logger: silentLogger });
const T0 = Date.parse('2026-12-01T00:00:00Z');
const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

describe('KafkaTenantRegistry', () => {
  it('survives a restart, honours tombstones, skips unreadable records and shows another writer\'s changes', async () => {
    const topic = uniqueName('registry');
    await createTestTopics([topic], { partitions: 3, compacted: true });
    const first = registry(topic);
    await first.start();
    const a = await first.put(newTenantRecord({ id: A, displayName: 'Contoso', cloud: 'commercial', plan: 'E5' }, 'api', T0));
    await first.put({ ...a, desiredState: 'paused' });
    await first.put(newTenantRecord({ id: B, cloud: 'gcc', plan: 'E3' }, 'config', T0));
    await first.remove(B);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'garbage', value: '{"id": 5}' }] });
    await producer.disconnect();
    await first.stop();

    const second = registry(topic);
    const watcher = registry(topic);
    await second.start();
    await watcher.start();
    const seen: TenantRecord[] = [];
    watcher.onChange((record) => seen.push(record));
    try {
      expect(second.list().map((r) => [r.id, r.desiredState, r.revision])).toEqual([[A, 'paused', 2]]);
      const current = second.get(A);
      if (current === undefined) throw new Error('record A missing');
      await second.put({ ...current, desiredState: 'active', displayName: 'Contoso Ltd' });
      await waitFor(() => watcher.get(A)?.desiredState === 'active', { timeoutMs: 20_000, what: 'the watcher to see the change' });
      expect(seen.map((r) => [r.displayName, r.revision])).toEqual([['Contoso Ltd', 3]]);
      expect(watcher.get('garbage')).toBeUndefined();
    } finally {
      await Promise.all([second.stop(), watcher.stop()]);
    }
  }, 60_000);
});
