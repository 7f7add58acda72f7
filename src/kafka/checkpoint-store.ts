import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { cursorKeyString, type CheckpointStore, type Cursor, type CursorKey } from '../contracts/checkpoint.ts';
import { ConnectorError } from '../contracts/errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { toConnectorError } from './client.ts';
import { ReadDeadlineError, readToEnd } from './read-to-end.ts';
import { decodeCursorRecord, encodeCursorRecord } from './cursor-record.ts';

export interface KafkaCheckpointStoreOptions {
  kafka: Kafka;
  /** The compacted cursors topic; shared with the exactly-once sink, which writes it in transactions. */
  topic: string;
  /** How long start() may take to read the topic to its end. */
  readDeadlineMs: number;
  logger: Logger;
}

/**
 * Cursors on a compacted topic, read whole into memory at start (Kafka Connect's KafkaBasedLog
 * pattern). read_committed, so cursors of aborted exactly-once units never count. In exactly-once
 * mode the sink must be started (fenced) before this store so no zombie transaction is pending.
 */
export class KafkaCheckpointStore implements CheckpointStore {
  private readonly options: KafkaCheckpointStoreOptions;
  private readonly logger: Logger;
  private readonly cursors = new Map<string, Cursor>();
  private producer: Producer | undefined;
  private state: 'new' | 'starting' | 'started' | 'stopped' = 'new';

  constructor(options: KafkaCheckpointStoreOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'kafka-checkpoint-store', topic: options.topic });
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    const startedAt = Date.now();
    await this.readAll();
    const producer = this.options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw toConnectorError(error, 'checkpoint', 'connect the cursor producer');
    }
    this.producer = producer;
    this.state = 'started';
    this.logger.info({ cursors: this.cursors.size, durationMs: Date.now() - startedAt }, 'Loaded cursors');
  }

  load(key: CursorKey): Cursor | undefined {
    if (this.state !== 'started') throw new Error('KafkaCheckpointStore.load() called before start()');
    const cursor = this.cursors.get(cursorKeyString(key));
    return cursor === undefined ? undefined : structuredClone(cursor);
  }

  async save(key: CursorKey, cursor: Cursor): Promise<void> {
    if (this.producer === undefined || this.state !== 'started') {
      throw new Error('KafkaCheckpointStore.save() called before start() or after stop()');
    }
    const record = encodeCursorRecord(key, cursor);
    try {
      await this.producer.send({ topic: this.options.topic, messages: [record], acks: -1 });
    } catch (error) {
      throw toConnectorError(error, 'checkpoint', 'save a cursor');
    }
    this.cursors.set(record.key, structuredClone(cursor));
  }

  async forget(key: CursorKey): Promise<void> {
    if (this.producer === undefined || this.state !== 'started') {
      throw new Error('KafkaCheckpointStore.forget() called before start() or after stop()');
    }
    const keyString = cursorKeyString(key);
    try {
      await this.producer.send({ topic: this.options.topic, messages: [{ key: keyString, value: null }], acks: -1 });
    } catch (error) {
      throw toConnectorError(error, 'checkpoint', 'tombstone a cursor');
    }
    this.cursors.delete(keyString);
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    await this.producer?.disconnect().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'Cursor producer did not disconnect cleanly');
    });
    this.producer = undefined;
  }

  private async readAll(): Promise<void> {
    try {
      await readToEnd(this.options.kafka, {
        topic: this.options.topic,
        deadlineMs: this.options.readDeadlineMs,
        groupIdPrefix: 'checkpoint-store',
        onMessage: (message, partition) => {
          const decoded = decodeCursorRecord(message.key, message.value);
          if (decoded.kind === 'cursor') this.cursors.set(decoded.key, decoded.cursor);
          else if (decoded.kind === 'tombstone') this.cursors.delete(decoded.key);
          // An unreadable record keeps the previous cursor of its key: at worst some blobs are
          // published again, never skipped.
          else this.logger.error({ partition, offset: message.offset, key: decoded.key, detail: decoded.detail }, 'Ignored an unreadable cursor record');
        },
      });
    } catch (error) {
      this.state = 'new';
      if (error instanceof ReadDeadlineError) {
        throw new ConnectorError('CHECKPOINT_READ_TIMEOUT', `Could not load cursors: ${error.message}`, {
          stage: 'checkpoint',
          retriable: true,
          cause: error,
        });
      }
      throw toConnectorError(error, 'checkpoint', `read the cursors topic ${this.options.topic}`);
    }
  }
}
