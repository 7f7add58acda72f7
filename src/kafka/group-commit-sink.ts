import type { TopicMessages } from 'kafkajs';
import { ConnectorError } from '../contracts/errors.ts';
import type { CursorSource, DeliveryUnit, Sink } from '../contracts/sink.ts';
import { GroupCommitter, type CursorWrite, type GroupLimits } from '../sink/group-commit.ts';
import { HoldingUnit, type UnitEncoding } from '../sink/holding-unit.ts';
import type { Logger } from '../telemetry/logger.ts';
import {
  atLeastOnceGroupRequests,
  countDelivered,
  kafkaEncoding,
  shardWriteContext,
  transactionalGroupRequests,
  type DeliveredCounts,
  type GroupWriteContext,
  type HeldMessage,
  type KafkaHeldOutput,
  type KafkaSinkTopics,
} from './units.ts';

export type SinkMode = 'at-least-once' | 'exactly-once';

/** What a shard's sink needs whichever Kafka client produces for it. */
export interface GroupSinkOptions {
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

/** One open transaction, as the shared group write drives it. */
export interface GroupTransaction {
  /** One produce request of the group (src/kafka/units.ts splits the group into them). */
  send(request: readonly TopicMessages[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Publishes delivery units to Kafka in groups (src/sink/group-commit.ts), whichever client produces.
 * Exactly-once: one transactional producer per shard; each group is one short transaction carrying
 * every unit that finished in the interval, across the shard's tenants, with the cursor of each
 * tenant that moved (the KIP-618 pattern, batched). At-least-once: one idempotent producer; a group
 * is one series of produce requests shared by many blobs. No transaction is open while units are
 * being filled. A client supplies only how to make, fence, close and drive its producer.
 */
export abstract class GroupCommitSink<P> implements Sink {
  readonly transactional: boolean;
  readonly transactionalId: string;
  protected readonly options: GroupSinkOptions;
  protected readonly logger: Logger;
  private readonly committer: GroupCommitter<KafkaHeldOutput>;
  private readonly encoding: UnitEncoding<HeldMessage>;
  private readonly writeContext: GroupWriteContext;
  private producer: P | undefined;
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
   * least once) the producer can never succeed again (see `lostProducerState`).
   */
  private broken = false;

  protected constructor(options: GroupSinkOptions, loggerFields: Record<string, string>) {
    this.options = options;
    this.transactional = options.mode === 'exactly-once';
    this.transactionalId = `${options.transactionalIdPrefix}-shard-${options.shard}`;
    this.logger = options.logger.child({ component: 'kafka-sink', ...loggerFields, shard: options.shard, mode: options.mode });
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

  /** A new producer of this sink's kind (transactional id set when exactly-once); not yet connected. */
  protected abstract createProducer(): Promise<P>;
  /** Connects it and, exactly-once, fences older producers of the shard (InitProducerId bumps the epoch). */
  protected abstract initProducer(producer: P): Promise<void>;
  protected abstract closeProducer(producer: P): Promise<void>;
  protected abstract sendAtLeastOnce(producer: P, request: readonly TopicMessages[]): Promise<void>;
  protected abstract beginTransaction(producer: P): Promise<GroupTransaction>;
  /** The client's error as a ConnectorError (codes shared by both clients), or the error unchanged. */
  protected abstract toError(error: unknown, action: string): Error;
  /** At least once: the producer can never succeed again (lost sequence state) and is replaced. */
  protected lostProducerState(_error: unknown): boolean {
    return false;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.producer = await this.connectProducer();
    this.state = 'started';
  }

  begin(tenantId: string): Promise<DeliveryUnit> {
    if (this.state === 'new') return Promise.reject(new Error(`${this.constructor.name}.begin() called before start()`));
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
    // Units still waiting are dropped (their blobs stay pending, so no cursor covers them); a group
    // being written may finish, so the coordinator need not abort it after transactionTimeoutMs.
    this.committer.close(stoppedError());
    await this.writing;
    if (this.producer !== undefined) {
      await this.closeProducer(this.producer).catch((error: unknown) => {
        this.logger.warn({ err: error }, 'Kafka producer did not close cleanly');
      });
    }
    this.producer = undefined;
  }

  private async writeGroup(parts: readonly KafkaHeldOutput[], cursors: readonly CursorWrite[]): Promise<void> {
    if (this.fenced !== undefined) throw this.fenced;
    if (this.uncertain !== undefined) throw this.uncertain;
    if (this.broken) await this.replaceProducer();
    const producer = this.requireProducer();
    if (!this.transactional) {
      try {
        // One request at a time: each awaited request is where a slow broker pushes back on the pipeline.
        for (const request of atLeastOnceGroupRequests(parts, this.writeContext)) await this.sendAtLeastOnce(producer, request);
      } catch (error) {
        if (producer === this.producer && this.lostProducerState(error)) this.broken = true;
        throw this.toError(error, 'publish a group of units');
      }
      this.options.onDelivered?.(countDelivered(parts));
      return;
    }
    let transaction: GroupTransaction;
    try {
      transaction = await this.beginTransaction(producer);
    } catch (error) {
      this.broken = true;
      throw this.noteFencing(this.toError(error, 'begin a transaction'));
    }
    try {
      for (const request of transactionalGroupRequests(parts, cursors, this.writeContext)) await transaction.send(request);
      await this.options.beforeCommit?.();
    } catch (error) {
      const mapped = this.noteFencing(this.toError(error, 'commit a group of units'));
      // Leave the producer ready for the next group; one that cannot abort is replaced.
      await transaction.abort().catch(() => {
        if (this.fenced === undefined) this.broken = true;
      });
      throw mapped;
    }
    try {
      await transaction.commit();
    } catch (error) {
      const mapped = this.noteFencing(this.toError(error, 'commit a group of units'));
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

  private async connectProducer(): Promise<P> {
    let producer: P | undefined;
    try {
      producer = await this.createProducer();
      await this.initProducer(producer);
    } catch (error) {
      if (producer !== undefined) await this.closeProducer(producer).catch(() => undefined);
      throw this.noteFencing(this.toError(error, 'start the Kafka producer'));
    }
    if (this.transactional) this.logger.info({ transactionalId: this.transactionalId }, 'Fenced older producers of this shard');
    return producer;
  }

  private async replaceProducer(): Promise<void> {
    this.logger.warn(this.transactional ? 'Replacing the Kafka producer after a transaction that could not be ended' : 'Replacing the Kafka producer after it lost its sequence state');
    if (this.producer !== undefined) await this.closeProducer(this.producer).catch(() => undefined);
    this.producer = undefined;
    this.producer = await this.connectProducer();
    this.broken = false;
  }

  private noteFencing(error: Error): Error {
    if (this.fenced === undefined && error instanceof ConnectorError && error.code.endsWith('_FENCED')) {
      this.fenced = error;
      // A warning, not an error: with scale-out a shard handed to another replica fences this one by design.
      this.logger.warn({ transactionalId: this.transactionalId }, 'Producer fenced: another instance owns this shard');
    }
    return error;
  }

  private unusable(): Error | undefined {
    if (this.fenced !== undefined) return this.fenced;
    if (this.uncertain !== undefined) return this.uncertain;
    return this.state === 'stopped' ? stoppedError() : undefined;
  }

  private requireProducer(): P {
    if (this.producer === undefined) throw new Error('Kafka producer missing although the sink is started');
    return this.producer;
  }
}

function stoppedError(): ConnectorError {
  return new ConnectorError('SINK_STOPPED', 'The Kafka sink is stopped', { stage: 'sink', retriable: false });
}
