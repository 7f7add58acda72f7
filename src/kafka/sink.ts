import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { ConnectorError } from '../contracts/errors.ts';
import type { CursorSource, DeliveryUnit, Sink } from '../contracts/sink.ts';
import { GroupCommitter, type CursorWrite, type GroupLimits } from '../sink/group-commit.ts';
import { HoldingUnit, type UnitEncoding } from '../sink/holding-unit.ts';
import type { Logger } from '../telemetry/logger.ts';
import { isFencedError, PRODUCER_RETRY, toConnectorError } from './client.ts';
import {
  countDelivered,
  kafkaEncoding,
  shardWriteContext,
  writeAtLeastOnceGroup,
  writeTransactionalGroup,
  type DeliveredCounts,
  type GroupWriteContext,
  type HeldMessage,
  type KafkaHeldOutput,
  type KafkaSinkTopics,
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
  /** When a group of finished units is written (interval, records, bytes). */
  group: GroupLimits;
  /** Must not exceed the broker's transaction.max.timeout.ms (15 min by default). */
  transactionTimeoutMs: number;
  logger: Logger;
  /** Records became durable: after each acknowledged group (at-least-once) or after its commit (exactly-once). */
  onDelivered?: (counts: DeliveredCounts) => void;
  now?: () => Date;
  /** A commit got no answer (SINK_COMMIT_UNCERTAIN): the sink refuses work from now on; the owner should take the shard over again. */
  onCommitUncertain?: (error: ConnectorError) => void;
  /** Awaited after a group's records are sent and before its commit: lets a test kill the process there. */
  beforeCommit?: () => Promise<void>;
}

/**
 * Publishes delivery units to Kafka in groups (src/sink/group-commit.ts). Exactly-once: one
 * transactional producer per shard; each group is one short transaction carrying every unit that
 * finished in the interval, across the shard's tenants, with the cursor of each tenant that moved
 * (the KIP-618 pattern, batched). At-least-once: one idempotent producer; a group is one series of
 * produce requests shared by many blobs. No transaction is open while units are being filled.
 */
export class KafkaSink implements Sink {
  readonly transactional: boolean;
  readonly transactionalId: string;
  private readonly options: KafkaSinkOptions;
  private readonly logger: Logger;
  private readonly committer: GroupCommitter<KafkaHeldOutput>;
  private readonly encoding: UnitEncoding<HeldMessage>;
  private readonly writeContext: GroupWriteContext;
  private producer: Producer | undefined;
  private state: 'new' | 'started' | 'stopped' = 'new';
  private fenced: ConnectorError | undefined;
  /**
   * A commit failed without an answer (the broker went away during EndTxn): the group may or may not
   * be committed, so its units must not simply be retried. The sink refuses further work; its owner
   * takes the shard over again (fence, re-read the committed cursors), which settles the outcome.
   */
  private uncertain: ConnectorError | undefined;
  /** The group being written, so stop can let it end before disconnecting. */
  private writing: Promise<void> | undefined;
  /**
   * The producer is replaced before the next group: a transaction could not be ended cleanly, or (at
   * least once) the broker lost the idempotent producer's sequence state, e.g. across a broker restart.
   */
  private broken = false;

  constructor(options: KafkaSinkOptions) {
    this.options = options;
    this.transactional = options.mode === 'exactly-once';
    this.transactionalId = `${options.transactionalIdPrefix}-shard-${options.shard}`;
    this.logger = options.logger.child({ component: 'kafka-sink', shard: options.shard, mode: options.mode });
    this.encoding = kafkaEncoding(options.topics, options.now ?? (() => new Date()));
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
    if (this.state === 'new') return Promise.reject(new Error('KafkaSink.begin() called before start()'));
    try {
      this.assertUsable();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return Promise.resolve(new HoldingUnit(tenantId, this.encoding, this.committer));
  }

  saveCursor(source: CursorSource, options: { promptly?: boolean } = {}): Promise<void> {
    if (!this.transactional) return Promise.resolve();
    try {
      this.assertUsable();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.committer.requestCursor(source, options.promptly === true);
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    // Units still waiting are dropped (their blobs stay pending, so no cursor covers them); a group
    // being written may finish, so the coordinator need not abort it after transactionTimeoutMs.
    this.committer.close(new ConnectorError('SINK_STOPPED', 'The Kafka sink is stopped', { stage: 'sink', retriable: false }));
    await this.writing;
    await this.producer?.disconnect().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'Kafka producer did not disconnect cleanly');
    });
    this.producer = undefined;
  }

  private async writeGroup(parts: readonly KafkaHeldOutput[], cursors: readonly CursorWrite[]): Promise<void> {
    if (this.fenced !== undefined) throw this.fenced;
    if (this.uncertain !== undefined) throw this.uncertain;
    if (this.broken) await this.replaceProducer();
    const producer = this.requireProducer();
    if (!this.transactional) {
      try {
        await writeAtLeastOnceGroup(producer, parts, this.writeContext);
      } catch (error) {
        if (producer === this.producer && hasProducerStateError(error)) this.broken = true;
        throw toConnectorError(error, 'sink', 'publish a group of units');
      }
      this.options.onDelivered?.(countDelivered(parts));
      return;
    }
    let transaction;
    try {
      transaction = await producer.transaction();
    } catch (error) {
      this.broken = true;
      throw this.noteFencing(toConnectorError(error, 'sink', 'begin a transaction'));
    }
    try {
      await writeTransactionalGroup(transaction, parts, cursors, this.writeContext);
      await this.options.beforeCommit?.();
    } catch (error) {
      const mapped = this.noteFencing(toConnectorError(error, 'sink', 'commit a group of units'));
      // Leave the producer ready for the next group; one that cannot abort is replaced.
      await transaction.abort().catch(() => {
        if (this.fenced === undefined) this.broken = true;
      });
      throw mapped;
    }
    try {
      await transaction.commit();
    } catch (error) {
      const mapped = this.noteFencing(toConnectorError(error, 'sink', 'commit a group of units'));
      if (this.fenced !== undefined) throw mapped;
      this.broken = true;
      this.uncertain = new ConnectorError('SINK_COMMIT_UNCERTAIN', `A group commit got no answer, so it may or may not have committed: ${mapped.message}`, {
        stage: 'sink',
        retriable: false,
        cause: error,
      });
      this.logger.warn({ transactionalId: this.transactionalId, err: mapped.message }, 'A group commit got no answer; the shard is taken over again to settle it');
      this.options.onCommitUncertain?.(this.uncertain);
      throw this.uncertain;
    }
    this.options.onDelivered?.(countDelivered(parts));
  }

  private async connectProducer(): Promise<Producer> {
    const producer = this.options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: PRODUCER_RETRY,
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
    this.logger.warn(this.transactional ? 'Replacing the Kafka producer after a transaction that could not be ended' : 'Replacing the Kafka producer after it lost its sequence state');
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
    this.producer = await this.connectProducer();
    this.broken = false;
  }

  private noteFencing(error: Error): Error {
    if (this.fenced === undefined && error instanceof ConnectorError && isFencedError(error)) {
      this.fenced = error;
      // A warning, not an error: with scale-out a shard handed to another replica fences this one by design.
      this.logger.warn({ transactionalId: this.transactionalId }, 'Producer fenced: another instance owns this shard');
    }
    return error;
  }

  private assertUsable(): void {
    if (this.fenced !== undefined) throw this.fenced;
    if (this.uncertain !== undefined) throw this.uncertain;
    if (this.state === 'stopped') {
      throw new ConnectorError('SINK_STOPPED', 'The Kafka sink is stopped', { stage: 'sink', retriable: false });
    }
  }

  private requireProducer(): Producer {
    if (this.producer === undefined) throw new Error('Kafka producer missing although the sink is started');
    return this.producer;
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
