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
  /** Scale-out: the registry, cursors and published-ids topics get one partition per shard. */
  shardPartitions?: number | undefined;
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
      const sharded = new Set([layout.registry, layout.cursors, layout.publishedIds].filter((t) => t !== undefined));
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((t) => ({ ...t, numPartitions: sharded.has(t.topic) ? (layout.shardPartitions ?? layout.partitions) : layout.partitions, replicationFactor: layout.replicationFactor })),
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

/**
 * Scale-out needs the registry topic to have exactly one partition per shard (the group assigns its
 * partitions), and the cursors and published-ids topics at least that many (a shard writes only its
 * own partition). Every mismatch is listed; changing the count is re-sharding (docs/scaling.md).
 */
export async function checkShardTopics(kafka: Kafka, topics: { registry: string; cursors: string; publishedIds?: string | undefined }, count: number): Promise<string[]> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const names = [topics.registry, topics.cursors, ...(topics.publishedIds === undefined ? [] : [topics.publishedIds])];
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics: names });
    const partitions = (name: string): number => metadata.find((t) => t.name === name)?.partitions.length ?? 0;
    const problems: string[] = [];
    if (partitions(topics.registry) !== count) {
      problems.push(`the registry topic ${topics.registry} has ${partitions(topics.registry)} partitions but kafka.shards.count is ${count}`);
    }
    for (const name of names.slice(1)) {
      if (partitions(name) < count) problems.push(`the topic ${name} has ${partitions(name)} partitions, fewer than kafka.shards.count (${count})`);
    }
    return problems;
  } catch (error) {
    throw toConnectorError(error, 'sink', 'check the partitions of the shard topics');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
