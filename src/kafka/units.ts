import { CompressionTypes, type Message, type TopicMessages } from 'kafkajs';
import type { CursorWrite } from '../sink/group-commit.ts';
import type { HeldOutput, UnitEncoding } from '../sink/holding-unit.ts';
import { encodeCursorRecord } from './cursor-record.ts';
import { deadLetterMessage, eventMessage, publishedIdsMessages } from './messages.ts';

export interface KafkaSinkTopics {
  events: string;
  deadLetter: string;
  cursors: string;
  /** Exactly-once only: ids published per group and tenant, read back at start to drop repeats after a restart. */
  publishedIds?: string | undefined;
}

export interface DeliveredCounts {
  events: number;
  deadLetters: number;
}

/** One record as a unit holds it until its group is written. */
export interface HeldMessage {
  topic: string;
  key: string;
  value: string | null;
  headers: Record<string, string>;
  /** Set for the shard-partitioned topics (cursors, published ids); else the key decides. */
  partition?: number;
}

export type KafkaHeldOutput = HeldOutput<HeldMessage>;

/** What writing a group needs from its sink; the same for both modes. */
export interface GroupWriteContext {
  topics: KafkaSinkTopics;
  compression: CompressionTypes;
  /** Upper bound of records in one produce request. */
  maxBatchMessages: number;
  /**
   * The shard's partition of the cursors and published-ids topics (scale-out): only this shard's
   * producer writes there, so once it is fenced the partition has no open transaction and a
   * read_committed read to its end sees every cursor the shard committed.
   */
  shardPartition?: number;
}

/** What both sinks (kafkajs and @platformatic/kafka) write a shard's groups with, from the sink options. */
export function shardWriteContext(options: { topics: KafkaSinkTopics; compression: 'none' | 'gzip'; maxBatchMessages: number; shard: number }): GroupWriteContext {
  return {
    topics: options.topics,
    compression: options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
    maxBatchMessages: options.maxBatchMessages,
    shardPartition: options.shard,
  };
}

export function kafkaEncoding(topics: KafkaSinkTopics, now: () => Date): UnitEncoding<HeldMessage> {
  return {
    event: (tenantId, event) => ({ topic: topics.events, ...eventMessage(tenantId, event) }),
    deadLetter: (item) => ({ topic: topics.deadLetter, ...deadLetterMessage(item, now()) }),
    keyed: (record) => ({ topic: record.topic, key: record.key, value: record.value, headers: { ...record.headers } }),
    bytes: (message) => message.key.length + (message.value?.length ?? 0) + 64,
  };
}

export function countDelivered(parts: readonly KafkaHeldOutput[]): DeliveredCounts {
  let events = 0;
  let deadLetters = 0;
  for (const part of parts) {
    events += part.events.length;
    deadLetters += part.deadLetters.length;
  }
  return { events, deadLetters };
}

/**
 * Event and dead-letter requests are capped in bytes as well as records: the broker refuses a record
 * batch over message.max.bytes (1 MiB by default). Compressed JSON events shrink several times; other
 * records (published ids are mostly random hex) barely do, so they get the uncompressed cap.
 */
const MAX_REQUEST_BYTES_COMPRESSED = 2 * 1024 * 1024;
const MAX_REQUEST_BYTES = 900 * 1024;

/** Splits a group's records into produce requests: per topic, capped in records and bytes, in order. */
export function produceRequests(messages: readonly HeldMessage[], context: GroupWriteContext, compressible: ReadonlySet<string>): TopicMessages[][] {
  const byTopic = new Map<string, Message[]>();
  for (const message of messages) {
    const list = byTopic.get(message.topic) ?? [];
    byTopic.set(message.topic, list);
    list.push({ key: message.key, value: message.value, headers: message.headers, ...(message.partition === undefined ? {} : { partition: message.partition }) });
  }
  const requests: TopicMessages[][] = [];
  for (const [topic, list] of byTopic) {
    const maxBytes = context.compression !== CompressionTypes.None && compressible.has(topic) ? MAX_REQUEST_BYTES_COMPRESSED : MAX_REQUEST_BYTES;
    let part: Message[] = [];
    let bytes = 0;
    for (const message of list) {
      const size = (message.value as string | null)?.length ?? 0;
      if (part.length > 0 && (part.length >= context.maxBatchMessages || bytes + size > maxBytes)) {
        requests.push([{ topic, messages: part }]);
        part = [];
        bytes = 0;
      }
      part.push(message);
      bytes += size;
    }
    if (part.length > 0) requests.push([{ topic, messages: part }]);
  }
  return requests;
}

/** Everything a group writes besides cursors: the parts' records, then each tenant's published ids. */
function groupMessages(parts: readonly KafkaHeldOutput[], topics: KafkaSinkTopics, shardPartition?: number): HeldMessage[] {
  const messages: HeldMessage[] = [];
  const ids = new Map<string, string[]>();
  for (const part of parts) {
    for (const list of [part.events, part.deadLetters, part.keyed]) for (const message of list) messages.push(message);
    if (part.publishedIds.length > 0) {
      const forTenant = ids.get(part.tenantId) ?? [];
      ids.set(part.tenantId, forTenant);
      for (const id of part.publishedIds) forTenant.push(id);
    }
  }
  const publishedIdsTopic = topics.publishedIds;
  if (publishedIdsTopic !== undefined) {
    for (const [tenantId, list] of ids) {
      for (const message of publishedIdsMessages(tenantId, list)) messages.push({ topic: publishedIdsTopic, ...message, ...pinned(shardPartition) });
    }
  }
  return messages;
}

function pinned(partition: number | undefined): { partition?: number } {
  return partition === undefined ? {} : { partition };
}

/** An exactly-once group as produce requests: its records, then the cursor of each tenant that moved. */
export function transactionalGroupRequests(parts: readonly KafkaHeldOutput[], cursors: readonly CursorWrite[], context: GroupWriteContext): TopicMessages[][] {
  const messages = groupMessages(parts, context.topics, context.shardPartition);
  for (const { source, cursor } of cursors) messages.push({ topic: context.topics.cursors, ...encodeCursorRecord(source.key, cursor), ...pinned(context.shardPartition) });
  return produceRequests(messages, context, compressibleTopics(context));
}

/** An at-least-once group as produce requests: published ids are an exactly-once record. */
export function atLeastOnceGroupRequests(parts: readonly KafkaHeldOutput[], context: GroupWriteContext): TopicMessages[][] {
  return produceRequests(groupMessages(parts, { ...context.topics, publishedIds: undefined }), context, compressibleTopics(context));
}

function compressibleTopics(context: GroupWriteContext): ReadonlySet<string> {
  return new Set([context.topics.events, context.topics.deadLetter]);
}
