import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '../telemetry/logger.ts';
import { toConnectorError } from './client.ts';

export interface KeyedRecord {
  topic: string;
  key: string;
  /** null = tombstone. */
  value: string | null;
  headers?: Record<string, string>;
}

/**
 * Lifecycle records outside any blob (status events): one idempotent producer, acks from all
 * in-sync replicas. With the group-commit sink these ride in the shard's next group instead
 * (coord/gc-contract.md); this writer is the seam to swap.
 */
export class KeyedRecordWriter {
  readonly #kafka: Kafka;
  readonly #log: Logger;
  #producer: Producer | undefined;

  constructor(kafka: Kafka, logger: Logger) {
    this.#kafka = kafka;
    this.#log = logger.child({ component: 'keyed-record-writer' });
  }

  async start(): Promise<void> {
    if (this.#producer !== undefined) return;
    const producer = this.#kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw toConnectorError(error, 'sink', 'connect the lifecycle record producer');
    }
    this.#producer = producer;
  }

  async write(records: readonly KeyedRecord[]): Promise<void> {
    if (this.#producer === undefined) throw new Error('KeyedRecordWriter.write() before start()');
    const byTopic = new Map<string, KeyedRecord[]>();
    for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    try {
      await this.#producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list.map((r) => ({ key: r.key, value: r.value, headers: r.headers ?? {} })) })),
      });
    } catch (error) {
      throw toConnectorError(error, 'sink', 'write lifecycle records');
    }
  }

  async stop(): Promise<void> {
    await this.#producer?.disconnect().catch((error: unknown) => this.#log.warn({ err: error }, 'Lifecycle record producer did not disconnect cleanly'));
    this.#producer = undefined;
  }
}
