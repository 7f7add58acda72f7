import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { ConnectorError } from '../contracts/errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { RecordDeliveredLog, type DigestBackend } from '../source/sweep/record-delivered-log.ts';
import { toConnectorError } from './client.ts';
import type { DigestRecord } from './digest-record.ts';
import { ReadDeadlineError, readToEnd } from './read-to-end.ts';

export interface KafkaDigestOptions {
  kafka: Kafka;
  /** The sweep-digests topic (deleted by time after 8 days; see topics.ts). */
  topic: string;
  /** Only these tenants' records are kept in memory (the others belong to other shards); asked at every read. */
  tenants: { has(tenantId: string): boolean };
  readDeadlineMs: number;
  logger: Logger;
}

/**
 * The sweep digests on Kafka: read once at start (read_committed, so blobs of aborted transactions
 * never count as delivered), written by an idempotent producer for what is not written inside blob
 * transactions (at-least-once deliveries, sweep state).
 */
export class KafkaDigestBackend implements DigestBackend {
  readonly topic: string;
  readonly #o: KafkaDigestOptions;
  /** Connected on first use; a promise, so concurrent writes share one producer. */
  #producer: Promise<Producer> | undefined;

  constructor(options: KafkaDigestOptions) {
    this.#o = options;
    this.topic = options.topic;
  }

  async readAll(onRecord: (key: string | null, value: string | null) => void): Promise<void> {
    try {
      await readToEnd(this.#o.kafka, {
        topic: this.topic,
        deadlineMs: this.#o.readDeadlineMs,
        groupIdPrefix: 'onedrive-connector-sweep-digests',
        onMessage: (message) => {
          const key = message.key?.toString('utf8') ?? null;
          if (key !== null && !this.#o.tenants.has(key.split('|', 1)[0] ?? '')) return;
          onRecord(key, message.value?.toString('utf8') ?? null);
        },
      });
    } catch (error) {
      if (error instanceof ReadDeadlineError) {
        throw new ConnectorError('DIGEST_READ_TIMEOUT', `Could not load the sweep digests: ${error.message}`, { stage: 'checkpoint', retriable: true, cause: error });
      }
      throw toConnectorError(error, 'checkpoint', `read the sweep digests topic ${this.topic}`);
    }
  }

  async write(records: readonly DigestRecord[]): Promise<void> {
    if (records.length === 0) return;
    const producer = await this.#connected();
    try {
      await producer.send({ topic: this.topic, messages: records.map((r) => ({ key: r.key, value: r.value })), acks: -1 });
    } catch (error) {
      throw toConnectorError(error, 'checkpoint', 'write sweep digest records');
    }
  }

  async close(): Promise<void> {
    const connecting = this.#producer;
    this.#producer = undefined;
    const producer = await connecting?.catch(() => undefined);
    await producer?.disconnect().catch((error: unknown) => this.#o.logger.warn({ err: error }, 'Digest producer did not disconnect cleanly'));
  }

  #connected(): Promise<Producer> {
    this.#producer ??= this.#connect();
    // A failed connect is not kept: the next write tries again.
    void this.#producer.catch(() => (this.#producer = undefined));
    return this.#producer;
  }

  async #connect(): Promise<Producer> {
    const producer = this.#o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw toConnectorError(error, 'checkpoint', 'connect the digest producer');
    }
    return producer;
  }
}

export function createKafkaDeliveredLog(options: KafkaDigestOptions & { now: () => number }): RecordDeliveredLog {
  return new RecordDeliveredLog(new KafkaDigestBackend(options), { now: options.now, logger: options.logger });
}
