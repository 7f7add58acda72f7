import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface ReadToEndOptions {
  topic: string;
  /** Default false: read_committed, aborted records are never seen. */
  readUncommitted?: boolean;
  deadlineMs: number;
  /** Stop as soon as this many messages arrived, even before the end offsets. */
  expectedCount?: number;
  /** Group ids are throwaway (no offsets are committed); the prefix says who read. */
  groupIdPrefix?: string;
  onMessage: (message: KafkaMessage, partition: number) => void;
}

export class ReadDeadlineError extends Error {
  override readonly name = 'ReadDeadlineError';
}

/**
 * Reads a topic from the beginning up to the end offsets it had when the read started (kafkajs
 * has no manual assign, so this is a one-member group on a fresh group id). For read_committed
 * the end is the last stable offset: kafkajs' admin ListOffsets asks for READ_COMMITTED.
 * Progress counts offsets, not messages: the last offsets of a partition are often commit
 * markers, which are never delivered as messages.
 */
export async function readToEnd(kafka: Kafka, options: ReadToEndOptions): Promise<void> {
  const ends = await endOffsets(kafka, options.topic);
  const positions = new Map<number, number>();
  for (const [partition, { low }] of ends) positions.set(partition, low);
  let count = 0;

  const done = (): boolean => {
    if (options.expectedCount !== undefined) return count >= options.expectedCount;
    for (const [partition, { high }] of ends) if ((positions.get(partition) ?? 0) < high) return false;
    return true;
  };
  if (done()) return;

  const consumer = kafka.consumer({
    groupId: `${options.groupIdPrefix ?? 'read-to-end'}-${randomUUID()}`,
    readUncommitted: options.readUncommitted ?? false,
    allowAutoTopicCreation: false,
    // An empty fetch is otherwise held 5 s by the broker; readers here want the end quickly.
    maxWaitTimeInMs: 100,
  });
  let finish = (): void => undefined;
  let fail = (_error: Error): void => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const check = (): void => {
    if (done()) finish();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    positions.set(payload.partition, Number(payload.lastOffset) + 1);
    const end = ends.get(payload.partition);
    // read_uncommitted may go past the stable offset; then the high watermark is the end.
    if (options.readUncommitted === true && end !== undefined) {
      end.high = Math.max(end.high, Number(payload.highWatermark));
    }
    check();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) fail(payload.error);
  });
  const timer = setTimeout(() => {
    const lagging = [...ends]
      .filter(([partition, { high }]) => (positions.get(partition) ?? 0) < high)
      .map(([partition, { high }]) => `${partition}@${positions.get(partition) ?? 0}/${high}`);
    fail(
      new ReadDeadlineError(
        `Reading ${options.topic} to its end took longer than ${options.deadlineMs} ms ` +
          `(${count} messages; partitions behind: ${lagging.join(', ') || 'none'}` +
          `${options.expectedCount === undefined ? '' : `; expected ${options.expectedCount} messages`})`,
      ),
    );
  }, options.deadlineMs);
  const starting = (async () => {
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ partition, message }) => {
        count += 1;
        options.onMessage(message, partition);
        check();
        return Promise.resolve();
      },
    });
  })();
  try {
    // Racing `finished` lets the deadline also cover a connect or group join that hangs.
    await Promise.race([starting.then(() => finished), finished]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}

async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, { low: number; high: number }>> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
