import type { Kafka } from 'kafkajs';
import { toConnectorError } from './kafka-client.ts';

export interface TopicLayout {
  events: string;
  deadLetter: string;
  cursors: string;
  partitions: number;
  replicationFactor: number;
}

/**
 * Creates whichever of the connector's topics are missing; existing topics are left as they are
 * (partition counts are an operator decision). Cursors are compacted: only the latest cursor per
 * key matters, and compaction keeps the topic as small as the number of (tenant, content type).
 * Safe to run concurrently from several replicas.
 */
export async function ensureTopics(kafka: Kafka, layout: TopicLayout): Promise<{ created: string[] }> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const wanted = [
      { topic: layout.events, configEntries: [] },
      { topic: layout.deadLetter, configEntries: [] },
      { topic: layout.cursors, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ];
    const missing = wanted.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      // Another replica may create the same topic between listTopics and here; kafkajs treats
      // TOPIC_ALREADY_EXISTS as success, which is what we want.
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          ...t,
          numPartitions: layout.partitions,
          replicationFactor: layout.replicationFactor,
        })),
      });
    }
    return { created: missing.map((t) => t.topic) };
  } catch (error) {
    throw toConnectorError(error, 'sink', 'create the connector topics');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
