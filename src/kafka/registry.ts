import { randomUUID } from 'node:crypto';
import { Partitioners, type Consumer, type Kafka, type KafkaMessage, type Message, type Producer } from 'kafkajs';
import { ConnectorError } from '../contracts/errors.ts';
import type { RegistryListener, RemovalListener, TenantRecord, TenantRegistry } from '../contracts/tenant-registry.ts';
import type { Logger } from '../telemetry/logger.ts';
import { toConnectorError } from './client.ts';
import { endOffsets, ReadDeadlineError, readToEnd } from './read-to-end.ts';
import { decodeTenantRecord, encodeTenantRecord } from './registry-record.ts';

/** A record is a few hundred bytes to a few KiB (history included): a send stays far below the broker's 1 MiB. */
const REGISTRY_RECORDS_PER_SEND = 200;

export interface KafkaTenantRegistryOptions {
  kafka: Kafka;
  /** The compacted registry topic (key = tenant id). */
  topic: string;
  readDeadlineMs: number;
  logger: Logger;
}

/**
 * The tenant registry on a compacted topic: read whole at start (like the cursors), then watched,
 * so a record written by another replica or an earlier run's admin call reaches this process's
 * supervisor. Each record carries a revision; a watched record not newer than the one held is
 * ignored, which also drops the echo of this process's own writes.
 */
export class KafkaTenantRegistry implements TenantRegistry {
  readonly #o: KafkaTenantRegistryOptions;
  readonly #log: Logger;
  readonly #records = new Map<string, TenantRecord>();
  readonly #changes: RegistryListener[] = [];
  readonly #removals: RemovalListener[] = [];
  #producer: Producer | undefined;
  #watcher: Consumer | undefined;
  #state: 'new' | 'started' | 'stopped' = 'new';
  /** partition → end offset before the initial read: the watcher skips what that read already applied. */
  #loadedUpTo = new Map<number, number>();
  /** Records waiting for the next send: concurrent puts share one produce request (see #send). */
  #outbox: Array<{ message: Message; resolve: () => void; reject: (error: unknown) => void }> = [];
  #sending = false;

  constructor(options: KafkaTenantRegistryOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'tenant-registry', topic: options.topic });
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    try {
      const ends = await endOffsets(this.#o.kafka, this.#o.topic, Date.now() + this.#o.readDeadlineMs);
      this.#loadedUpTo = new Map([...ends].map(([partition, { high }]) => [partition, high]));
      await readToEnd(this.#o.kafka, {
        topic: this.#o.topic,
        deadlineMs: this.#o.readDeadlineMs,
        groupIdPrefix: 'tenant-registry',
        onMessage: (message, partition) => this.#apply(message, partition, false),
      });
    } catch (error) {
      if (error instanceof ReadDeadlineError) {
        throw new ConnectorError('REGISTRY_READ_TIMEOUT', `Could not load the tenant registry: ${error.message}`, { stage: 'checkpoint', retriable: true, cause: error });
      }
      throw toConnectorError(error, 'checkpoint', `read the tenant registry topic ${this.#o.topic}`);
    }
    const producer = this.#o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw toConnectorError(error, 'checkpoint', 'connect the tenant registry producer');
    }
    this.#producer = producer;
    await this.#watch();
    this.#state = 'started';
    this.#log.info({ tenants: this.#records.size }, 'Loaded the tenant registry');
  }

  list(): TenantRecord[] {
    return [...this.#records.values()].map((r) => structuredClone(r));
  }

  ids(): string[] {
    return [...this.#records.keys()];
  }

  get(tenantId: string): TenantRecord | undefined {
    const record = this.#records.get(tenantId.toLowerCase());
    return record === undefined ? undefined : structuredClone(record);
  }

  async put(record: TenantRecord): Promise<TenantRecord> {
    const producer = this.#requireProducer();
    const previous = this.#records.get(record.id);
    const stored: TenantRecord = { ...structuredClone(record), revision: Math.max(previous?.revision ?? 0, record.revision) + 1 };
    try {
      await this.#send(producer, encodeTenantRecord(stored));
    } catch (error) {
      throw toConnectorError(error, 'checkpoint', 'write a tenant registry record');
    }
    this.#set(stored, previous);
    return structuredClone(stored);
  }

  async remove(tenantId: string): Promise<void> {
    const producer = this.#requireProducer();
    try {
      await producer.send({ topic: this.#o.topic, messages: [{ key: tenantId, value: null }], acks: -1 });
    } catch (error) {
      throw toConnectorError(error, 'checkpoint', 'purge a tenant registry record');
    }
    if (this.#records.delete(tenantId)) for (const listener of this.#removals) listener(tenantId);
  }

  onChange(listener: RegistryListener): void {
    this.#changes.push(listener);
  }

  onRemove(listener: RemovalListener): void {
    this.#removals.push(listener);
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    await Promise.allSettled([this.#watcher?.disconnect(), this.#producer?.disconnect()]);
    this.#watcher = undefined;
    this.#producer = undefined;
  }

  /** A throwaway group from the beginning: the topic is small (one record per tenant after compaction). */
  async #watch(): Promise<void> {
    const consumer = this.#o.kafka.consumer({ groupId: `tenant-registry-watch-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.#o.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: ({ message, partition }) => {
          if (Number(message.offset) >= (this.#loadedUpTo.get(partition) ?? 0)) this.#apply(message, partition, true);
          return Promise.resolve();
        },
      });
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw toConnectorError(error, 'checkpoint', 'watch the tenant registry topic');
    }
    this.#watcher = consumer;
  }

  #apply(message: KafkaMessage, partition: number, notify: boolean): void {
    const decoded = decodeTenantRecord(message.key, message.value);
    if (decoded.kind === 'invalid') {
      this.#log.error({ partition, offset: message.offset, key: decoded.key, detail: decoded.detail }, 'Ignored an unreadable tenant registry record');
      return;
    }
    if (decoded.kind === 'tombstone') {
      if (this.#records.delete(decoded.key) && notify) for (const listener of this.#removals) listener(decoded.key);
      return;
    }
    const previous = this.#records.get(decoded.record.id);
    if (previous !== undefined && previous.revision >= decoded.record.revision) return;
    if (notify) this.#set(decoded.record, previous);
    else this.#records.set(decoded.record.id, decoded.record);
  }

  #set(record: TenantRecord, previous: TenantRecord | undefined): void {
    this.#records.set(record.id, record);
    for (const listener of this.#changes) listener(structuredClone(record), previous === undefined ? undefined : structuredClone(previous));
  }

  /**
   * One produce request at a time, carrying every record put since the last one went out: seeding
   * 10,000 tenants from the config file (or their first status changes) took one broker round trip
   * each, a minute and a half at start; now it takes a few dozen. Order per key is kept.
   */
  #send(producer: Producer, message: Message): Promise<void> {
    const sent = new Promise<void>((resolve, reject) => this.#outbox.push({ message, resolve, reject }));
    this.#flush(producer);
    return sent;
  }

  #flush(producer: Producer): void {
    if (this.#sending || this.#outbox.length === 0) return;
    this.#sending = true;
    const batch = this.#outbox.splice(0, REGISTRY_RECORDS_PER_SEND);
    producer
      .send({ topic: this.#o.topic, messages: batch.map((entry) => entry.message), acks: -1 })
      .then(
        () => batch.forEach((entry) => entry.resolve()),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      )
      .finally(() => {
        this.#sending = false;
        this.#flush(producer);
      });
  }

  #requireProducer(): Producer {
    if (this.#producer === undefined || this.#state === 'stopped') throw new Error('KafkaTenantRegistry used before start() or after stop()');
    return this.#producer;
  }
}
