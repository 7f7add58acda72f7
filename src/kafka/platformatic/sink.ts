import type { MessageToProduce } from '@platformatic/kafka';
import type { TopicMessages } from 'kafkajs';
import { timed, type ProducerMetrics } from '../client.ts';
import { GroupCommitSink, type GroupSinkOptions, type GroupTransaction } from '../group-commit-sink.ts';
import { createPlatformaticProducer, toConnectorErrorFromPlatformatic, type PlatformaticProducerOptions, type StringProducer } from './client.ts';

export interface PlatformaticSinkOptions extends GroupSinkOptions {
  clientId: string;
  brokers: readonly string[];
  ssl?: PlatformaticProducerOptions['ssl'];
  sasl?: PlatformaticProducerOptions['sasl'];
  /** Produce and commit latency and aborts, the same series the kafkajs producers feed. */
  metrics?: ProducerMetrics | undefined;
}

type Message = MessageToProduce<string, string, string, string>;

/** InitProducerId's "no producer yet" (KIP-360). */
const NO_PRODUCER_ID = -1n;
const NO_PRODUCER_EPOCH = -1;

/**
 * The group-commit sink (src/kafka/group-commit-sink.ts) on @platformatic/kafka instead of kafkajs
 * (kafka.client = platformatic): the same units, groups and records, produced by another client.
 * The client re-initialises an idempotent producer whose sequence state the broker lost, so no
 * at-least-once producer is replaced for that.
 */
export class PlatformaticSink extends GroupCommitSink<StringProducer> {
  private readonly settings: PlatformaticSinkOptions;

  constructor(options: PlatformaticSinkOptions) {
    super(options, { client: 'platformatic' });
    this.settings = options;
  }

  protected createProducer(): Promise<StringProducer> {
    const o = this.settings;
    return createPlatformaticProducer({
      clientId: o.clientId,
      brokers: o.brokers,
      ssl: o.ssl,
      sasl: o.sasl,
      logger: o.logger,
      ...(this.transactional ? { transactionalId: this.transactionalId, transactionTimeoutMs: o.transactionTimeoutMs } : {}),
    });
  }

  /**
   * The client connects lazily; asking for a producer id now makes start fail when Kafka is away.
   * Exactly-once: the first transaction of a producer sends InitProducerId, which bumps the epoch of
   * our transactional id, fencing an older producer of this shard and aborting its open transaction.
   * The transaction is then cancelled locally: nothing was added to it, so no EndTxn is needed (the
   * coordinator answers INVALID_TXN_STATE to an abort of an empty transaction).
   *
   * The client (2.12.1) sends producer id 0 and epoch 0 in a new producer's InitProducerId unless
   * told otherwise; on a transactional id used before (every restart of a shard's owner) the
   * coordinator takes that for a stale producer and answers PRODUCER_FENCED. -1/-1 is what the
   * protocol means by "a new producer" (KIP-360), and what the Java client sends.
   */
  protected async initProducer(producer: StringProducer): Promise<void> {
    if (!this.transactional) {
      await producer.initIdempotentProducer({});
      return;
    }
    const transaction = await producer.beginTransaction({ producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH });
    await transaction.cancel();
  }

  protected closeProducer(producer: StringProducer): Promise<void> {
    return producer.close();
  }

  protected async sendAtLeastOnce(producer: StringProducer, request: readonly TopicMessages[]): Promise<void> {
    await this.timed(() => producer.send({ messages: toMessages(request), compression: this.settings.compression }), 'produce');
  }

  protected async beginTransaction(producer: StringProducer): Promise<GroupTransaction> {
    const transaction = await producer.beginTransaction();
    // Only a transaction that sent something counts as aborted (the kafkajs producers count alike).
    let sent = false;
    return {
      send: async (request) => {
        sent = true;
        await this.timed(() => transaction.send({ messages: toMessages(request), compression: this.settings.compression }), 'produce');
      },
      commit: () => this.timed(() => transaction.commit(), 'commit'),
      abort: async () => {
        if (sent) this.settings.metrics?.kafkaTransactionAborts.inc();
        await transaction.abort();
      },
    };
  }

  protected toError(error: unknown, action: string): Error {
    return toConnectorErrorFromPlatformatic(error, 'sink', action);
  }

  private async timed<R>(call: () => Promise<R>, kind: 'produce' | 'commit'): Promise<R> {
    const metrics = this.settings.metrics;
    if (metrics === undefined) return call();
    return timed(call, kind === 'produce' ? metrics.kafkaProduceDuration : metrics.kafkaCommitDuration)();
  }
}

/** One produce request of the shared splitter (src/kafka/units.ts) in this client's message shape. */
function toMessages(request: readonly TopicMessages[]): Message[] {
  const messages: Message[] = [];
  for (const { topic, messages: list } of request) {
    for (const m of list) {
      // A null value is a tombstone: the string serializer writes it as a null record value.
      // A pinned partition (the shard's cursors and published ids) is kept; the others go by key.
      messages.push({ topic, key: m.key as string, value: m.value as string, headers: (m.headers ?? {}) as Record<string, string>, ...(m.partition === undefined ? {} : { partition: m.partition }) });
    }
  }
  return messages;
}
