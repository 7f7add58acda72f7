import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { ConnectorError } from '../contracts/errors.ts';
import type { DeliveryUnit, Sink } from '../contracts/sink.ts';
import type { Logger } from '../telemetry/logger.ts';
import { isFencedError, toConnectorError } from './client.ts';
import {
  AtLeastOnceUnit,
  TransactionalUnit,
  type DeliveredCounts,
  type KafkaSinkTopics,
  type UnitContext,
  type UnitEnd,
} from './units.ts';

export type { DeliveredCounts, KafkaSinkTopics };
export type SinkMode = 'at-least-once' | 'exactly-once';

export interface KafkaSinkOptions {
  kafka: Kafka;
  topics: KafkaSinkTopics;
  mode: SinkMode;
  /** The shard this sink publishes for; exactly-once fencing is per shard, never per pod. */
  shard: number;
  transactionalIdPrefix: string;
  compression: 'none' | 'gzip';
  /** Upper bound of records in one produce request. */
  maxBatchMessages: number;
  /** Must not exceed the broker's transaction.max.timeout.ms (15 min by default). */
  transactionTimeoutMs: number;
  logger: Logger;
  /** Records became durable: after each acknowledged send (at-least-once) or after commit (exactly-once). */
  onDelivered?: (counts: DeliveredCounts) => void;
  now?: () => Date;
}

/**
 * Publishes delivery units to Kafka. At-least-once: one idempotent producer shared by concurrent
 * units. Exactly-once: one transactional producer per shard, one unit (= one transaction) at a time,
 * with the unit's cursor written inside the transaction (the KIP-618 pattern).
 */
export class KafkaSink implements Sink {
  readonly transactional: boolean;
  readonly transactionalId: string;
  private readonly options: KafkaSinkOptions;
  private readonly logger: Logger;
  private producer: Producer | undefined;
  private state: 'new' | 'started' | 'stopped' = 'new';
  /** Resolves when the current exactly-once unit ends; the next begin waits on it. */
  private tail: Promise<void> = Promise.resolve();
  private openUnit: TransactionalUnit | undefined;
  private fenced: ConnectorError | undefined;
  /**
   * The producer is replaced before the next unit: a transaction could not be ended cleanly, or (at
   * least once) the broker lost the idempotent producer's sequence state, e.g. across a broker restart.
   */
  private broken = false;
  private replacing: Promise<void> | undefined;

  constructor(options: KafkaSinkOptions) {
    this.options = options;
    this.transactional = options.mode === 'exactly-once';
    this.transactionalId = `${options.transactionalIdPrefix}-shard-${options.shard}`;
    this.logger = options.logger.child({ component: 'kafka-sink', shard: options.shard, mode: options.mode });
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.producer = await this.connectProducer();
    this.state = 'started';
  }

  async begin(tenantId: string): Promise<DeliveryUnit> {
    if (this.state === 'new') throw new Error('KafkaSink.begin() called before start()');
    const context = this.unitContext(tenantId);
    if (!this.transactional) {
      this.assertUsable();
      if (this.broken) {
        this.replacing ??= this.replaceProducer().finally(() => (this.replacing = undefined));
        await this.replacing;
      }
      const producer = this.requireProducer();
      // Watches the shared producer's sends: one that lost its sequence state stays refused forever.
      const send: Producer['send'] = (record) =>
        producer.send(record).catch((error: unknown) => {
          if (producer === this.producer && hasProducerStateError(error)) this.broken = true;
          throw error;
        });
      return new AtLeastOnceUnit(context, { send });
    }
    const previous = this.tail;
    let release = (): void => undefined;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      this.assertUsable();
      if (this.broken) await this.replaceProducer();
      const transaction = await this.requireProducer().transaction();
      const unit = new TransactionalUnit(context, transaction, (end) => {
        this.unitEnded(end);
        release();
      });
      this.openUnit = unit;
      return unit;
    } catch (error) {
      release();
      throw this.noteFencing(toConnectorError(error, 'sink', 'begin a transaction'));
    }
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    // Nothing of an unfinished unit may become visible; the coordinator would abort it only after
    // transactionTimeoutMs, holding back read_committed consumers until then.
    await this.openUnit?.abort().catch(() => undefined);
    await this.producer?.disconnect().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'Kafka producer did not disconnect cleanly');
    });
    this.producer = undefined;
  }

  private async connectProducer(): Promise<Producer> {
    const producer = this.options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      ...(this.transactional
        ? { transactionalId: this.transactionalId, transactionTimeout: this.options.transactionTimeoutMs }
        : {}),
    });
    try {
      await producer.connect();
      if (this.transactional) await this.fence(producer);
      return producer;
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw this.noteFencing(toConnectorError(error, 'sink', 'start the Kafka producer'));
    }
  }

  /**
   * InitProducerId bumps the epoch of our transactional id: any older producer of this shard is
   * fenced and its open transaction aborted before we read cursors or publish anything.
   */
  private async fence(producer: Producer): Promise<void> {
    const transaction = await producer.transaction();
    await transaction.abort();
    this.logger.info({ transactionalId: this.transactionalId }, 'Fenced older producers of this shard');
  }

  private async replaceProducer(): Promise<void> {
    this.logger.warn('Replacing the Kafka producer after a transaction that could not be ended');
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
    this.producer = await this.connectProducer();
    this.broken = false;
  }

  private unitEnded(end: UnitEnd): void {
    this.openUnit = undefined;
    if (end.kind !== 'failed') return;
    this.noteFencing(toConnectorError(end.error, 'sink', 'end the transaction'));
    if (this.fenced === undefined) this.broken = true;
  }

  private noteFencing(error: Error): Error {
    if (this.fenced === undefined && error instanceof ConnectorError && isFencedError(error)) {
      this.fenced = error;
      this.logger.error({ transactionalId: this.transactionalId }, 'Producer fenced: another instance owns this shard');
    }
    return error;
  }

  private assertUsable(): void {
    if (this.fenced !== undefined) throw this.fenced;
    if (this.state === 'stopped') {
      throw new ConnectorError('SINK_STOPPED', 'The Kafka sink is stopped', { stage: 'sink', retriable: false });
    }
  }

  private requireProducer(): Producer {
    if (this.producer === undefined) throw new Error('Kafka producer missing although the sink is started');
    return this.producer;
  }

  private unitContext(tenantId: string): UnitContext {
    return {
      tenantId,
      topics: this.options.topics,
      compression: this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      maxBatchMessages: this.options.maxBatchMessages,
      now: this.options.now ?? (() => new Date()),
      onDelivered: this.options.onDelivered,
    };
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
