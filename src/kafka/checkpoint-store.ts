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
  /**
   * Scale-out: the partition a tenant's cursors belong in (its shard's). Cursors are written there,
   * and a cursor found in another partition (written before scale-out, or copied while re-sharding)
   * counts only while the tenant's own partition holds none. Without it the key decides (one shard).
   */
  partitionOf?: (tenantId: string) => number;
}

/**
 * Cursors on a compacted topic, read whole into memory at start (Kafka Connect's KafkaBasedLog
 * pattern). read_committed, so cursors of aborted exactly-once units never count. In exactly-once
 * mode the sink must be started (fenced) before this store so no zombie transaction is pending.
 */
export class KafkaCheckpointStore implements CheckpointStore {
  private readonly options: KafkaCheckpointStoreOptions;
  private readonly logger: Logger;
  /** key → cursor (null: tombstoned) from the key's own partition. */
  private cursors = new Map<string, Cursor | null>();
  /** key → cursor found in another partition: used only while the own partition has nothing for the key. */
  private legacy = new Map<string, Cursor>();
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
    const keyString = cursorKeyString(key);
    const cursor = this.cursors.has(keyString) ? this.cursors.get(keyString) : this.legacy.get(keyString);
    return cursor === undefined || cursor === null ? undefined : structuredClone(cursor);
  }

  async save(key: CursorKey, cursor: Cursor): Promise<void> {
    if (this.producer === undefined || this.state !== 'started') {
      throw new Error('KafkaCheckpointStore.save() called before start() or after stop()');
    }
    const record = encodeCursorRecord(key, cursor);
    try {
      await this.producer.send({ topic: this.options.topic, messages: [{ ...record, ...this.partitionFor(key) }], acks: -1 });
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
      await this.producer.send({ topic: this.options.topic, messages: [{ key: keyString, value: null, ...this.partitionFor(key) }], acks: -1 });
    } catch (error) {
      throw toConnectorError(error, 'checkpoint', 'tombstone a cursor');
    }
    this.cursors.set(keyString, null);
  }

  /**
   * Reads the topic again (scale-out: after the producers of newly owned shards were fenced, so no
   * transaction of theirs is open and their partitions are complete up to the stable offset).
   */
  async reload(): Promise<void> {
    if (this.state !== 'started') throw new Error('KafkaCheckpointStore.reload() called before start() or after stop()');
    const startedAt = Date.now();
    await this.readAll();
    this.logger.info({ cursors: this.cursors.size + this.legacy.size, durationMs: Date.now() - startedAt }, 'Reloaded cursors');
  }

  private partitionFor(key: CursorKey): { partition?: number } {
    return this.options.partitionOf === undefined ? {} : { partition: this.options.partitionOf(key.tenantId) };
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
    const own = new Map<string, Cursor | null>();
    const legacy = new Map<string, Cursor>();
    const partitionOf = this.options.partitionOf;
    try {
      await readToEnd(this.options.kafka, {
        topic: this.options.topic,
        deadlineMs: this.options.readDeadlineMs,
        groupIdPrefix: 'checkpoint-store',
        onMessage: (message, partition) => {
          const decoded = decodeCursorRecord(message.key, message.value);
          // An unreadable record keeps the previous cursor of its key: at worst some blobs are
          // published again, never skipped.
          if (decoded.kind === 'invalid') {
            this.logger.error({ partition, offset: message.offset, key: decoded.key, detail: decoded.detail }, 'Ignored an unreadable cursor record');
            return;
          }
          const tenantId = decoded.key.split('|', 1)[0] ?? '';
          const inOwnPartition = partitionOf === undefined || partitionOf(tenantId) === partition;
          if (inOwnPartition) own.set(decoded.key, decoded.kind === 'cursor' ? decoded.cursor : null);
          else if (decoded.kind === 'cursor') legacy.set(decoded.key, decoded.cursor);
          else legacy.delete(decoded.key);
        },
      });
      this.cursors = own;
      this.legacy = legacy;
    } catch (error) {
      if (this.state === 'starting') this.state = 'new';
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
