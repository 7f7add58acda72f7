import { CompressionTypes, Partitioners, type Kafka, type Producer, type TopicMessages } from 'kafkajs';
import { GroupCommitSink, type GroupSinkOptions, type GroupTransaction, type SinkMode } from './group-commit-sink.ts';
import { PRODUCER_RETRY, toConnectorError } from './client.ts';
import type { DeliveredCounts, KafkaSinkTopics } from './units.ts';

export type { DeliveredCounts, KafkaSinkTopics, SinkMode };

export interface KafkaSinkOptions extends GroupSinkOptions {
  kafka: Kafka;
}

/** The group-commit sink (src/kafka/group-commit-sink.ts) on kafkajs. */
export class KafkaSink extends GroupCommitSink<Producer> {
  private readonly kafka: Kafka;
  private readonly compression: CompressionTypes;

  constructor(options: KafkaSinkOptions) {
    super(options, {});
    this.kafka = options.kafka;
    this.compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  protected createProducer(): Promise<Producer> {
    return Promise.resolve(
      this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: PRODUCER_RETRY,
        ...(this.transactional ? { transactionalId: this.transactionalId, transactionTimeout: this.options.transactionTimeoutMs } : {}),
      }),
    );
  }

  /** An empty transaction opened and aborted: InitProducerId bumps the epoch of our transactional id. */
  protected async initProducer(producer: Producer): Promise<void> {
    await producer.connect();
    if (this.transactional) await (await producer.transaction()).abort();
  }

  protected closeProducer(producer: Producer): Promise<void> {
    return producer.disconnect();
  }

  protected async sendAtLeastOnce(producer: Producer, request: readonly TopicMessages[]): Promise<void> {
    await producer.sendBatch({ topicMessages: [...request], acks: -1, compression: this.compression });
  }

  protected async beginTransaction(producer: Producer): Promise<GroupTransaction> {
    const transaction = await producer.transaction();
    return {
      send: async (request) => {
        await transaction.sendBatch({ topicMessages: [...request], acks: -1, compression: this.compression });
      },
      commit: () => transaction.commit(),
      abort: () => transaction.abort(),
    };
  }

  protected toError(error: unknown, action: string): Error {
    return toConnectorError(error, 'sink', action);
  }

  protected override lostProducerState(error: unknown): boolean {
    return hasProducerStateError(error);
  }
}

/**
 * Errors after which an idempotent producer never succeeds again: the broker and the producer disagree
 * on its sequence numbers or id. Seen after a broker restart: every send of the old producer answered
 * OUT_OF_ORDER_SEQUENCE_NUMBER until the process was restarted. A new producer (new id) recovers.
 */
const PRODUCER_STATE_ERRORS = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_ID_MAPPING', 'INVALID_PRODUCER_EPOCH']);

function hasProducerStateError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth += 1) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && PRODUCER_STATE_ERRORS.has(type)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
