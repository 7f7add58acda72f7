import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type IHeaders, type KafkaMessage } from 'kafkajs';
import { readToEnd } from '../../src/kafka/read-to-end.ts';
import { waitForLeaders } from '../../src/kafka/topics.ts';
import { defaultBrokers } from '../../src/cli/option-parsers.ts';

/** The broker scripts/kafka.sh starts (on KAFKA_PORT), unless KAFKA_BROKERS names another (comma-separated). */
export function kafkaBrokers(): string[] {
  const raw = defaultBrokers();
  return raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

/** A quiet client that fails fast: tests want a clear error, not kafkajs' 8 s of retries. */
export function testKafka(clientId = 'test'): Kafka {
  return new Kafka({
    clientId,
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    retry: { retries: 3, initialRetryTime: 100 },
  });
}

/** Unique per call, valid as a topic or group name, readable in the broker log. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

let brokerCheck: Promise<void> | undefined;

/**
 * Fails with instructions when no broker answers. Use as `beforeEach(requireBroker)`: a failing
 * beforeAll would report the tests as skipped, and integration tests must fail, never skip, when
 * Kafka is missing. The check runs once per test file.
 */
export function requireBroker(): Promise<void> {
  brokerCheck ??= checkBroker();
  return brokerCheck;
}

async function checkBroker(): Promise<void> {
  const admin = testKafka('broker-check').admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    throw new Error(
      `No Kafka broker answers at ${kafkaBrokers().join(',')}: start one with "scripts/kafka.sh start" ` +
        `or point KAFKA_BROKERS at one (${(error as Error).message})`,
      { cause: error },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function createTestTopics(
  names: readonly string[],
  options: { partitions?: number; compacted?: boolean } = {},
): Promise<void> {
  const admin = testKafka('topic-setup').admin();
  try {
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: false,
      topics: names.map((topic) => ({
        topic,
        numPartitions: options.partitions ?? 1,
        replicationFactor: 1,
        configEntries: options.compacted === true ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
      })),
    });
    await waitForLeaders(admin, names, 30_000);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Reads `topic` from the beginning until `expectedCount` messages arrived or, without it, until
 * the end offsets taken at the start are reached. Rejects at `deadlineMs` with what is missing.
 */
export async function readAll(
  topic: string,
  options: { isolation: 'read_committed' | 'read_uncommitted'; expectedCount?: number; deadlineMs: number; settleMs?: number },
): Promise<ReadMessage[]> {
  const messages: ReadMessage[] = [];
  await readToEnd(testKafka('test-reader'), {
    topic,
    readUncommitted: options.isolation === 'read_uncommitted',
    deadlineMs: options.deadlineMs,
    groupIdPrefix: 'test-reader',
    ...(options.expectedCount === undefined ? {} : { expectedCount: options.expectedCount }),
    ...(options.settleMs === undefined ? {} : { settleMs: options.settleMs }),
    onMessage: (message, partition) => messages.push(toReadMessage(message, partition)),
  });
  return messages;
}

function toReadMessage(message: KafkaMessage, partition: number): ReadMessage {
  return {
    partition,
    offset: message.offset,
    key: message.key?.toString('utf8') ?? null,
    value: message.value?.toString('utf8') ?? null,
    headers: headerStrings(message.headers ?? {}),
  };
}

function headerStrings(headers: IHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

