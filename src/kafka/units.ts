import type { CompressionTypes, Producer, Transaction } from 'kafkajs';
import type { FileEvent } from '../contracts/file-event.ts';
import type { DeadLetter, DeliveryUnit, UnitCheckpoint } from '../contracts/sink.ts';
import { encodeCursorRecord } from './cursor-record.ts';
import { toConnectorError } from './client.ts';
import { chunk, deadLetterMessage, eventMessage, publishedIdsMessages, type OutgoingMessage } from './messages.ts';

export interface KafkaSinkTopics {
  events: string;
  deadLetter: string;
  cursors: string;
  /** Exactly-once only: ids published per unit, read back at start to drop repeats after a restart. */
  publishedIds?: string | undefined;
}

export interface DeliveredCounts {
  events: number;
  deadLetters: number;
}

/** What a unit needs from its sink; the same for both modes. */
export interface UnitContext {
  tenantId: string;
  topics: KafkaSinkTopics;
  compression: CompressionTypes;
  maxBatchMessages: number;
  now: () => Date;
  onDelivered: ((counts: DeliveredCounts) => void) | undefined;
}

type SendTarget = Pick<Producer, 'send'> | Pick<Transaction, 'send'>;

/**
 * Sends in chunks of maxBatchMessages, one after the other: each awaited chunk is where a slow
 * broker pushes back on the pipeline, and a chunk bounds the size of one produce request.
 */
async function sendChunks(target: SendTarget, topic: string, messages: readonly OutgoingMessage[], context: UnitContext): Promise<void> {
  for (const part of chunk(messages, context.maxBatchMessages)) {
    await target.send({ topic, messages: part, acks: -1, compression: context.compression });
  }
}

/**
 * Keeps the first failure of any send so commit can refuse to report success for a unit that lost
 * records, even if the caller ignored a rejected send.
 */
abstract class UnitBase implements DeliveryUnit {
  protected readonly context: UnitContext;
  protected readonly target: SendTarget;
  protected finished = false;
  private readonly pending = new Set<Promise<void>>();
  private failure: Error | undefined;

  constructor(context: UnitContext, target: SendTarget) {
    this.context = context;
    this.target = target;
  }

  send(events: readonly FileEvent[]): Promise<void> {
    const messages = events.map((event) => eventMessage(this.context.tenantId, event));
    return this.track(this.context.topics.events, messages, 'publish events', { events: events.length, deadLetters: 0 });
  }

  deadLetter(items: readonly DeadLetter[]): Promise<void> {
    const at = this.context.now();
    const messages = items.map((item) => deadLetterMessage(item, at));
    return this.track(this.context.topics.deadLetter, messages, 'publish dead letters', { events: 0, deadLetters: items.length });
  }

  abstract commit(checkpoint?: UnitCheckpoint): Promise<void>;
  abstract abort(): Promise<void>;

  /** Called once the records of one send are acknowledged. */
  protected abstract acknowledged(counts: DeliveredCounts): void;

  protected async settled(): Promise<void> {
    await Promise.allSettled(this.pending);
    if (this.failure !== undefined) throw this.failure;
  }

  private track(topic: string, messages: OutgoingMessage[], action: string, counts: DeliveredCounts): Promise<void> {
    if (this.finished) return Promise.reject(new Error(`Cannot ${action}: the delivery unit is already committed or aborted`));
    if (messages.length === 0) return Promise.resolve();
    const sending = sendChunks(this.target, topic, messages, this.context).then(
      () => this.acknowledged(counts),
      (error: unknown) => {
        const mapped = toConnectorError(error, 'sink', action);
        this.failure ??= mapped;
        throw mapped;
      },
    );
    const settled = sending.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(settled);
    void settled.finally(() => this.pending.delete(settled));
    return sending;
  }
}

/** Independent of other units; records are durable as soon as each send resolves. */
export class AtLeastOnceUnit extends UnitBase {
  async commit(): Promise<void> {
    this.finished = true;
    await this.settled();
  }

  abort(): Promise<void> {
    // What was acknowledged stays in Kafka; the pipeline will not commit past this blob, so the
    // records are published again on retry (duplicates, never loss).
    this.finished = true;
    return Promise.resolve();
  }

  protected acknowledged(counts: DeliveredCounts): void {
    this.context.onDelivered?.(counts);
  }
}

/** How a transactional unit ended, for the sink to decide whether its producer is still usable. */
export type UnitEnd = { kind: 'committed' } | { kind: 'aborted' } | { kind: 'failed'; error: unknown };

export class TransactionalUnit extends UnitBase {
  private readonly transaction: Transaction;
  private readonly cursorsTopic: string;
  private readonly onEnd: (end: UnitEnd) => void;
  private delivered: DeliveredCounts = { events: 0, deadLetters: 0 };

  constructor(context: UnitContext, transaction: Transaction, onEnd: (end: UnitEnd) => void) {
    super(context, transaction);
    this.transaction = transaction;
    this.cursorsTopic = context.topics.cursors;
    this.onEnd = onEnd;
  }

  async commit(checkpoint?: UnitCheckpoint): Promise<void> {
    if (checkpoint === undefined) throw new Error('An exactly-once commit needs the checkpoint to write with it');
    if (this.finished) throw new Error('The delivery unit is already committed or aborted');
    this.finished = true;
    try {
      await this.settled();
      const publishedIdsTopic = this.context.topics.publishedIds;
      if (publishedIdsTopic !== undefined && checkpoint.publishedIds !== undefined && checkpoint.publishedIds.length > 0) {
        const messages = publishedIdsMessages(this.context.tenantId, checkpoint.publishedIds);
        // One record per request: kafkajs puts a send's messages in one batch, which has the same size limit.
        for (const message of messages) await this.transaction.send({ topic: publishedIdsTopic, messages: [message], acks: -1, compression: this.context.compression });
      }
      // Sweep digests (issue 12): same transaction, so a blob counts as delivered exactly when its events do.
      for (const extra of checkpoint.extraRecords ?? []) {
        await this.transaction.send({ topic: extra.topic, messages: [{ key: extra.key, value: extra.value }], acks: -1, compression: this.context.compression });
      }
      const record = encodeCursorRecord(checkpoint.key, checkpoint.cursor);
      await this.transaction.send({ topic: this.cursorsTopic, messages: [record], acks: -1 });
      await this.transaction.commit();
    } catch (error) {
      const mapped = toConnectorError(error, 'sink', 'commit the transaction');
      await this.abandon(mapped);
      throw mapped;
    }
    this.onEnd({ kind: 'committed' });
    this.context.onDelivered?.(this.delivered);
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await Promise.allSettled([this.settled()]);
    try {
      await this.transaction.abort();
      this.onEnd({ kind: 'aborted' });
    } catch (error) {
      const mapped = toConnectorError(error, 'sink', 'abort the transaction');
      this.onEnd({ kind: 'failed', error: mapped });
      throw mapped;
    }
  }

  protected acknowledged(counts: DeliveredCounts): void {
    // Inside a transaction "acknowledged" is not yet "delivered": only commit makes it visible.
    this.delivered = {
      events: this.delivered.events + counts.events,
      deadLetters: this.delivered.deadLetters + counts.deadLetters,
    };
  }

  /** After a failed commit, try to leave the producer ready for the next unit. */
  private async abandon(cause: unknown): Promise<void> {
    try {
      await this.transaction.abort();
      this.onEnd({ kind: 'aborted' });
    } catch {
      this.onEnd({ kind: 'failed', error: cause });
    }
  }
}
