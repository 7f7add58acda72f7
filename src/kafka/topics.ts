import type { Admin, Kafka } from 'kafkajs';
import { toConnectorError } from './client.ts';

export interface TopicLayout {
  events: string;
  deadLetter: string;
  cursors: string;
  /** Exactly-once restart dedupe log; kept for `publishedIdsRetentionMs` only. */
  publishedIds?: string | undefined;
  publishedIdsRetentionMs?: number | undefined;
  /** Connection lifecycle: the tenant registry and the drives seen (compacted), the status events (kept). */
  registry?: string | undefined;
  drives?: string | undefined;
  connectionStatus?: string | undefined;
  /** Reconciliation sweep: delivered-blob digests and sweep state, deleted by time (see digest-record.ts). */
  sweepDigests?: string | undefined;
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
      ...(layout.publishedIds === undefined
        ? []
        : [{ topic: layout.publishedIds, configEntries: [{ name: 'retention.ms', value: String(layout.publishedIdsRetentionMs ?? 172_800_000) }] }]),
      ...[layout.registry, layout.drives].filter((t) => t !== undefined).map((topic) => ({ topic, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] })),
      ...(layout.connectionStatus === undefined ? [] : [{ topic: layout.connectionStatus, configEntries: [] }]),
      // 8 days: the 7 the API keeps plus a day, so a digest outlives every blob it can be asked about.
      ...(layout.sweepDigests === undefined ? [] : [{ topic: layout.sweepDigests, configEntries: [{ name: 'retention.ms', value: String(8 * 86_400_000) }] }]),
    ];
    const missing = wanted.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      // Another replica may create the same topic between listTopics and here; kafkajs treats
      // TOPIC_ALREADY_EXISTS as success, which is what we want.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((t) => ({ ...t, numPartitions: layout.partitions, replicationFactor: layout.replicationFactor })),
      });
      await waitForLeaders(admin, missing.map((t) => t.topic), 30_000);
    }
    return { created: missing.map((t) => t.topic) };
  } catch (error) {
    throw toConnectorError(error, 'sink', 'create the connector topics');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * kafkajs' own `waitForLeaders` only retries LEADER_NOT_AVAILABLE, but a KRaft broker answers
 * UNKNOWN_TOPIC_OR_PARTITION until the new topic reaches its metadata cache, so createTopics can
 * fail although the topic was created. This waits for every partition to have a leader instead.
 */
export async function waitForLeaders(admin: Admin, topics: readonly string[], deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    let last: unknown;
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
      const ready = topics.every((name) => {
        const partitions = metadata.find((t) => t.name === name)?.partitions ?? [];
        return partitions.length > 0 && partitions.every((p) => p.leader >= 0);
      });
      if (ready) return;
    } catch (error) {
      if ((error as { retriable?: unknown }).retriable !== true) throw error;
      last = error;
    }
    if (Date.now() > until) {
      throw last instanceof Error ? last : new Error(`Topics ${topics.join(', ')} have no leader after ${deadlineMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
