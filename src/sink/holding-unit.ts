import { ConnectorError } from '../contracts/errors.ts';
import type { FileEvent } from '../contracts/file-event.ts';
import type { DeadLetter, DeliveryUnit, KeyedRecord, UnitCheckpoint } from '../contracts/sink.ts';
import type { GroupCommitter } from './group-commit.ts';

/** How a sink turns what a unit is given into what it writes (Kafka messages, or copies in memory). */
export interface UnitEncoding<M> {
  event(tenantId: string, event: FileEvent): M;
  deadLetter(item: DeadLetter): M;
  keyed(record: KeyedRecord): M;
  bytes(message: M): number;
}

/** What one unit or slice hands to its group. */
export interface HeldOutput<M> {
  tenantId: string;
  events: M[];
  deadLetters: M[];
  keyed: M[];
  publishedIds: readonly string[];
}

/**
 * A delivery unit that holds its output until it commits, then joins the sink's next group. The
 * same for every sink: only the encoding and the group's `write` differ.
 */
export class HoldingUnit<M> implements DeliveryUnit {
  readonly #tenantId: string;
  readonly #encoding: UnitEncoding<M>;
  readonly #committer: GroupCommitter<HeldOutput<M>>;
  #held: HeldOutput<M>;
  #records = 0;
  #bytes = 0;
  #finished = false;

  constructor(tenantId: string, encoding: UnitEncoding<M>, committer: GroupCommitter<HeldOutput<M>>) {
    this.#tenantId = tenantId;
    this.#encoding = encoding;
    this.#committer = committer;
    this.#held = this.#empty();
  }

  get full(): boolean {
    return this.#committer.isFull(this.#records, this.#bytes);
  }

  send(events: readonly FileEvent[]): Promise<void> {
    return this.#hold(this.#held.events, events, (event) => this.#encoding.event(this.#tenantId, event));
  }

  deadLetter(items: readonly DeadLetter[]): Promise<void> {
    return this.#hold(this.#held.deadLetters, items, (item) => this.#encoding.deadLetter(item));
  }

  attach(records: readonly KeyedRecord[]): Promise<void> {
    return this.#hold(this.#held.keyed, records, (record) => this.#encoding.keyed(record));
  }

  async commitSlice(checkpoint: UnitCheckpoint, records: number): Promise<void> {
    this.#assertOpen('commit a slice');
    await this.#submit(checkpoint, { done: false, records }, false);
  }

  async commit(checkpoint?: UnitCheckpoint): Promise<void> {
    this.#assertOpen('commit');
    await this.#submit(checkpoint, { done: true }, true);
  }

  abort(): Promise<void> {
    this.#finished = true;
    this.#held = this.#empty();
    return Promise.resolve();
  }

  async #submit(checkpoint: UnitCheckpoint | undefined, progress: { done: true } | { done: false; records: number }, last: boolean): Promise<void> {
    const payload: HeldOutput<M> = { ...this.#held, publishedIds: checkpoint?.publishedIds ?? [] };
    const part = {
      payload,
      records: this.#records,
      bytes: this.#bytes,
      progress: checkpoint === undefined ? undefined : { source: checkpoint.source, contentId: checkpoint.contentId, progress },
    };
    this.#held = this.#empty();
    this.#records = 0;
    this.#bytes = 0;
    if (last) this.#finished = true;
    try {
      await this.#committer.submit(part);
    } catch (error) {
      // A failed group ends the unit: the caller retries the blob from its last durable position.
      this.#finished = true;
      throw error;
    }
  }

  #hold<T>(into: M[], items: readonly T[], encode: (item: T) => M): Promise<void> {
    try {
      this.#assertOpen('add records');
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    for (const item of items) {
      const message = encode(item);
      into.push(message);
      this.#bytes += this.#encoding.bytes(message);
    }
    this.#records += items.length;
    return Promise.resolve();
  }

  #assertOpen(action: string): void {
    if (this.#finished) {
      throw new ConnectorError('SINK_UNIT_FINISHED', `Cannot ${action}: the delivery unit is already committed or aborted`, { stage: 'sink', retriable: false });
    }
  }

  #empty(): HeldOutput<M> {
    return { tenantId: this.#tenantId, events: [], deadLetters: [], keyed: [], publishedIds: [] };
  }
}
