import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface ReadToEndOptions {
  topic: string;
  /** Default false: read_committed, aborted records are never seen. */
  readUncommitted?: boolean;
  deadlineMs: number;
  /**
   * Wait until at least this many messages arrived, then read on to the end offsets of that
   * moment, so that unexpected extra messages are seen too. Needed right after a transaction
   * commits: the broker writes commit markers after answering the commit, so the stable offset
   * may not cover the transaction yet.
   */
  expectedCount?: number;
  /**
   * Once the end is reached, look again after this long and read on if the end moved. For a reader
   * right after a producer stopped: its last transaction's commit markers may not be written yet, so
   * the stable offset does not cover it for a moment.
   */
  settleMs?: number;
  /** Group ids are throwaway (no offsets are committed); the prefix says who read. */
  groupIdPrefix?: string;
  onMessage: (message: KafkaMessage, partition: number) => void;
}

export class ReadDeadlineError extends Error {
  override readonly name = 'ReadDeadlineError';
}

type Ends = Map<number, { low: number; high: number }>;

/**
 * Reads a topic from the beginning up to its end offsets (kafkajs has no manual assign, so this
 * is a one-member group on a fresh group id). For read_committed the end is the last stable
 * offset: kafkajs' admin ListOffsets asks for READ_COMMITTED. Progress counts offsets, not
 * messages: the last offsets of a partition are often commit markers, never delivered.
 */
export async function readToEnd(kafka: Kafka, options: ReadToEndOptions): Promise<void> {
  const deadlineAt = Date.now() + options.deadlineMs;
  const ends = await endOffsets(kafka, options.topic, deadlineAt);
  const positions = new Map<number, number>();
  for (const [partition, { low }] of ends) positions.set(partition, low);
  let count = 0;
  let phase: 'counting' | 'refreshing' | 'to-end' = (options.expectedCount ?? 0) > 0 ? 'counting' : 'to-end';
  const reachedEnds = (): boolean => [...ends].every(([partition, { high }]) => (positions.get(partition) ?? 0) >= high);
  let settled = (options.settleMs ?? 0) <= 0;
  const endsMoved = async (): Promise<boolean> => {
    await new Promise((resolve) => setTimeout(resolve, options.settleMs));
    const fresh = await endOffsets(kafka, options.topic, deadlineAt);
    let moved = false;
    for (const [partition, end] of fresh) {
      if (end.high > (ends.get(partition)?.high ?? 0)) moved = true;
      ends.set(partition, { low: end.low, high: Math.max(end.high, ends.get(partition)?.high ?? 0) });
    }
    return moved;
  };
  if (phase === 'to-end' && reachedEnds()) {
    if (settled || !(await endsMoved())) return;
    settled = true;
  }

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
    if (phase === 'counting' && count >= (options.expectedCount ?? 0)) {
      phase = 'refreshing';
      endOffsets(kafka, options.topic, deadlineAt).then((fresh) => {
        for (const [partition, end] of fresh) {
          ends.set(partition, { low: end.low, high: Math.max(end.high, ends.get(partition)?.high ?? 0) });
        }
        phase = 'to-end';
        check();
      }, fail);
    }
    if (phase === 'to-end' && reachedEnds()) {
      if (settled) finish();
      else {
        settled = true;
        phase = 'refreshing';
        endsMoved().then(() => {
          phase = 'to-end';
          check();
        }, fail);
      }
    }
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
  const timer = setTimeout(() => fail(deadlineError(options, ends, positions, count)), Math.max(0, deadlineAt - Date.now()));
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

function deadlineError(options: ReadToEndOptions, ends: Ends, positions: Map<number, number>, count: number): ReadDeadlineError {
  const lagging = [...ends]
    .filter(([partition, { high }]) => (positions.get(partition) ?? 0) < high)
    .map(([partition, { high }]) => `${partition}@${positions.get(partition) ?? 0}/${high}`);
  const expected = options.expectedCount === undefined ? '' : ` of ${options.expectedCount} expected`;
  return new ReadDeadlineError(
    `Reading ${options.topic} to its end took longer than ${options.deadlineMs} ms ` +
      `(${count} messages${expected}; partitions behind: ${lagging.join(', ') || 'none'})`,
  );
}

/**
 * kafkajs' fetchTopicOffsets gives up at once on NOT_LEADER_FOR_PARTITION, which a just-created
 * topic answers until its leader is known everywhere; a fresh admin refreshes metadata.
 */
async function endOffsets(kafka: Kafka, topic: string, deadlineAt: number): Promise<Ends> {
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
    } catch (error) {
      const retriable = (error as { retriable?: unknown }).retriable === true;
      if (!retriable || Date.now() + 100 > deadlineAt) throw error;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
