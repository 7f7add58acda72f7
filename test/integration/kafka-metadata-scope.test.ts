// src/kafka/kafkajs-metadata-scope.ts on the wire: a kafkajs client that has used no topic yet holds
// no topic's metadata (it held the whole cluster's), and explicit "every topic" calls still get all.
import { describe, expect, it, beforeEach } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createTestTopics, requireBroker, testKafka, uniqueName } from '../support/kafka.ts';

/** The parts of kafkajs' internal Cluster this test looks at (kafkajs 2.2.4). */
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  metadata(): Promise<{ topicMetadata: Array<{ topic: string }> }>;
  brokerPool: { metadata: { controllerId: number; brokers: unknown[]; topicMetadata: Array<{ topic: string }> } };
}

/** A cluster as kafkajs makes one for each producer, consumer and admin. */
function internalCluster(kafka: Kafka): InternalCluster {
  const create = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (create === undefined) throw new Error('kafkajs changed: no private createCluster on the client');
  return (kafka as unknown as Record<symbol, (options: object) => InternalCluster>)[create]!({ allowAutoTopicCreation: false });
}

beforeEach(requireBroker);

describe('kafkajs metadata scope (fix installed by the test setup and the CLI entry point)', () => {
  it('a client with no topic yet holds the brokers and the controller but no topic; its topics once used; listing still sees all', async () => {
    const [used, other] = [uniqueName('scope-used'), uniqueName('scope-other')];
    await createTestTopics([used, other], { partitions: 3 });
    const cluster = internalCluster(testKafka('metadata-scope'));
    await cluster.connect();
    try {
      await cluster.refreshMetadata();
      const idle = cluster.brokerPool.metadata;
      expect(idle.brokers.length).toBeGreaterThan(0);
      expect(idle.controllerId).toEqual(expect.any(Number));
      expect(idle.topicMetadata).toEqual([]);

      await cluster.addTargetTopic(used);
      expect(cluster.brokerPool.metadata.topicMetadata.map((t) => t.topic)).toEqual([used]);

      const all = (await cluster.metadata()).topicMetadata.map((t) => t.topic);
      expect(all).toEqual(expect.arrayContaining([used, other]));
    } finally {
      await cluster.disconnect();
    }
  });
});
