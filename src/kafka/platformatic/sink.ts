import type { MessageToProduce } from '@platformatic/kafka';
import type { TopicMessages } from 'kafkajs';
import { ConnectorError } from '../../contracts/errors.ts';
import type { CursorSource, DeliveryUnit, Sink } from '../../contracts/sink.ts';
import { GroupCommitter, type CursorWrite } from '../../sink/group-commit.ts';
import { HoldingUnit, type UnitEncoding } from '../../sink/holding-unit.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { timed, type ProducerMetrics } from '../client.ts';
import type { KafkaSinkOptions } from '../sink.ts';
import {
  atLeastOnceGroupRequests,
  countDelivered,
  kafkaEncoding,
  shardWriteContext,
  transactionalGroupRequests,
  type GroupWriteContext,
  type HeldMessage,
  type KafkaHeldOutput,
} from '../units.ts';
import { createPlatformaticProducer, isPlatformaticFencedError, toConnectorErrorFromPlatformatic, type PlatformaticProducerOptions, type StringProducer } from './client.ts';

export interface PlatformaticSinkOptions extends Omit<KafkaSinkOptions, 'kafka'> {
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
 * The Sink of src/kafka/sink.ts on @platformatic/kafka instead of kafkajs (kafka.client =
 * platformatic): the same units, group commit and records, produced by another client. Exactly-once:
 * one transactional producer per shard, fenced at start by InitProducerId; each group is one
 * transaction with the cursors of the tenants that moved. At-least-once: one idempotent producer,
 * a group is one series of produce requests. No transaction is open while units are being filled.
 */
export class PlatformaticSink implements Sink {
  readonly transactional: boolean;
  readonly transactionalId: string;
  private readonly options: PlatformaticSinkOptions;
  private readonly logger: Logger;
  private readonly committer: GroupCommitter<KafkaHeldOutput>;
  private readonly encoding: UnitEncoding<HeldMessage>;
  private readonly writeContext: GroupWriteContext;
  private producer: StringProducer | undefined;
  private state: 'new' | 'started' | 'stopped' = 'new';
  private fenced: ConnectorError | undefined;
  private writing: Promise<void> | undefined;
  /** The producer is replaced before the next group: a transaction could not be ended cleanly. */
  private broken = false;

  constructor(options: PlatformaticSinkOptions) {
    this.options = options;
    this.transactional = options.mode === 'exactly-once';
    this.transactionalId = `${options.transactionalIdPrefix}-shard-${options.shard}`;
    this.logger = options.logger.child({ component: 'kafka-sink', client: 'platformatic', shard: options.shard, mode: options.mode });
    this.encoding = kafkaEncoding(options.topics, options.now ?? (() => new Date()));
    // Only the request caps read `compression`; the client itself is told by name (see `send`).
    this.writeContext = shardWriteContext(options);
    this.committer = new GroupCommitter<KafkaHeldOutput>({
      ...options.group,
      writesCursors: this.transactional,
      write: (parts, cursors) => {
        const writing = this.writeGroup(parts, cursors);
        this.writing = writing.then(
          () => undefined,
          () => undefined,
        );
        return writing;
      },
    });
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.producer = await this.connectProducer();
    this.state = 'started';
  }

  begin(tenantId: string): Promise<DeliveryUnit> {
    if (this.state === 'new') return Promise.reject(new Error('PlatformaticSink.begin() called before start()'));
    const unusable = this.unusable();
    if (unusable !== undefined) return Promise.reject(unusable);
    return Promise.resolve(new HoldingUnit(tenantId, this.encoding, this.committer));
  }

  saveCursor(source: CursorSource, options: { promptly?: boolean } = {}): Promise<void> {
    if (!this.transactional) return Promise.resolve();
    const unusable = this.unusable();
    if (unusable !== undefined) return Promise.reject(unusable);
    return this.committer.requestCursor(source, options.promptly === true);
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    // As KafkaSink: waiting units are dropped (their blobs stay pending), a group being written may finish.
    this.committer.close(stoppedError());
    await this.writing;
    await this.producer?.close().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'Kafka producer did not close cleanly');
    });
    this.producer = undefined;
  }

  private async writeGroup(parts: readonly KafkaHeldOutput[], cursors: readonly CursorWrite[]): Promise<void> {
    if (this.fenced !== undefined) throw this.fenced;
    if (this.broken) await this.replaceProducer();
    const producer = this.requireProducer();
    const send = this.instrumented((messages: Message[]) => producer.send({ messages, compression: this.options.compression }), 'produce');
    if (!this.transactional) {
      try {
        // The client re-initialises an idempotent producer whose sequence state the broker lost.
        for (const request of atLeastOnceGroupRequests(parts, this.writeContext)) await send(toMessages(request));
      } catch (error) {
        throw toConnectorErrorFromPlatformatic(error, 'sink', 'publish a group of units');
      }
      this.options.onDelivered?.(countDelivered(parts));
      return;
    }
    let transaction;
    try {
      transaction = await producer.beginTransaction();
    } catch (error) {
      this.broken = true;
      throw this.noteFencing(toConnectorErrorFromPlatformatic(error, 'sink', 'begin a transaction'));
    }
    const inTransaction = this.instrumented((messages: Message[]) => transaction.send({ messages, compression: this.options.compression }), 'produce');
    let sent = false;
    try {
      for (const request of transactionalGroupRequests(parts, cursors, this.writeContext)) {
        sent = true;
        await inTransaction(toMessages(request));
      }
      await this.options.beforeCommit?.();
      await this.instrumented(() => transaction.commit(), 'commit')();
    } catch (error) {
      const mapped = this.noteFencing(toConnectorErrorFromPlatformatic(error, 'sink', 'commit a group of units'));
      if (sent) this.options.metrics?.kafkaTransactionAborts.inc();
      await transaction.abort().catch(() => {
        if (this.fenced === undefined) this.broken = true;
      });
      throw mapped;
    }
    this.options.onDelivered?.(countDelivered(parts));
  }

  private async connectProducer(): Promise<StringProducer> {
    const producer = await createPlatformaticProducer({
      clientId: this.options.clientId,
      brokers: this.options.brokers,
      ssl: this.options.ssl,
      sasl: this.options.sasl,
      logger: this.options.logger,
      ...(this.transactional ? { transactionalId: this.transactionalId, transactionTimeoutMs: this.options.transactionTimeoutMs } : {}),
    });
    try {
      // The client connects lazily; asking for a producer id now makes start fail when Kafka is away.
      if (this.transactional) await this.fence(producer);
      else await producer.initIdempotentProducer({});
      return producer;
    } catch (error) {
      await producer.close().catch(() => undefined);
      throw this.noteFencing(toConnectorErrorFromPlatformatic(error, 'sink', 'start the Kafka producer'));
    }
  }

  /**
   * The first transaction of a producer sends InitProducerId, which bumps the epoch of our
   * transactional id: an older producer of this shard is fenced and its open transaction aborted.
   * The transaction is then cancelled locally: nothing was added to it, so no EndTxn is needed
   * (the coordinator answers INVALID_TXN_STATE to an abort of an empty transaction).
   *
   * The client (2.12.1) sends producer id 0 and epoch 0 in a new producer's InitProducerId unless
   * told otherwise; on a transactional id used before (every restart of a shard's owner) the
   * coordinator takes that for a stale producer and answers PRODUCER_FENCED. -1/-1 is what the
   * protocol means by "a new producer" (KIP-360), and what the Java client sends.
   */
  private async fence(producer: StringProducer): Promise<void> {
    const transaction = await producer.beginTransaction({ producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH });
    await transaction.cancel();
    this.logger.info({ transactionalId: this.transactionalId }, 'Fenced older producers of this shard');
  }

  private async replaceProducer(): Promise<void> {
    this.logger.warn('Replacing the Kafka producer after a transaction that could not be ended');
    await this.producer?.close().catch(() => undefined);
    this.producer = undefined;
    this.producer = await this.connectProducer();
    this.broken = false;
  }

  private instrumented<A extends unknown[], R>(call: (...args: A) => Promise<R>, kind: 'produce' | 'commit'): (...args: A) => Promise<R> {
    const metrics = this.options.metrics;
    if (metrics === undefined) return call;
    return timed(call, kind === 'produce' ? metrics.kafkaProduceDuration : metrics.kafkaCommitDuration);
  }

  private noteFencing(error: Error): Error {
    if (this.fenced === undefined && error instanceof ConnectorError && isPlatformaticFencedError(error)) {
      this.fenced = error;
      this.logger.error({ transactionalId: this.transactionalId }, 'Producer fenced: another instance owns this shard');
    }
    return error;
  }

  private unusable(): Error | undefined {
    if (this.fenced !== undefined) return this.fenced;
    return this.state === 'stopped' ? stoppedError() : undefined;
  }

  private requireProducer(): StringProducer {
    if (this.producer === undefined) throw new Error('Kafka producer missing although the sink is started');
    return this.producer;
  }
}

function stoppedError(): ConnectorError {
  return new ConnectorError('SINK_STOPPED', 'The Kafka sink is stopped', { stage: 'sink', retriable: false });
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
