import { cursorKeyString, type CursorKey } from '../../contracts/checkpoint.ts';
import type { DeliveredBlob, DeliveredLog, DeliveredView, SweepState } from '../../contracts/delivered-log.ts';
import type { KeyedRecord } from '../../contracts/sink.ts';
import { chunk } from '../../kafka/messages.ts';
import { decodeDigestRecord, encodeDelivered, encodeSweepState, type DigestRecord } from '../../kafka/digest-record.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { CoalescingTask } from '../../util/coalescing-task.ts';
import { RETENTION_MS } from '../poller/window-planner.ts';
import { contentIdHash, DeliveredDigests } from './delivered-digests.ts';

/** Where a record log keeps its records: a Kafka topic, or an array in tests. */
export interface DigestBackend {
  readonly topic: string;
  /** Every stored record, oldest first (read_committed for Kafka). */
  readAll(onRecord: (key: string | null, value: string | null) => void): Promise<void>;
  /** Durable once resolved; not in any blob's transaction. */
  write(records: readonly DigestRecord[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A DeliveredLog over a log of digest records (src/kafka/digest-record.ts), replayed into an
 * in-memory DeliveredDigests at start. A blob's digest record is a side record of its delivery unit
 * (exactly-once: the same transaction; at-least-once: the same acknowledged batch), so it is durable
 * exactly when the blob's events are. What is not tied to a unit (blobs only an older cursor knew
 * of, sweep state) this log writes itself.
 */
export class RecordDeliveredLog implements DeliveredLog {
  readonly #backend: DigestBackend;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #digests = new DeliveredDigests();
  readonly #pending = new Map<string, DeliveredBlob[]>();
  readonly #flush: CoalescingTask;
  /**
   * Sweep states waiting to be written: those saved while a write is in flight go together in the
   * next one, so 10,000 tenants starting make a few requests, not 10,000.
   */
  #states: Array<{ record: DigestRecord; done: (error?: Error) => void }> = [];
  readonly #stateWriter: CoalescingTask;
  #state: 'new' | 'started' | 'stopped' = 'new';

  constructor(backend: DigestBackend, options: { now: () => number; logger: Logger }) {
    this.#backend = backend;
    this.#now = options.now;
    this.#log = options.logger.child({ component: 'delivered-log', topic: backend.topic });
    this.#stateWriter = new CoalescingTask(
      () => this.#writeStates(),
      () => undefined, // #writeStates hands every failure to its callers
    );
    this.#flush = new CoalescingTask(
      () => this.#writePending(),
      (error) => this.#log.warn({ err: error }, 'Writing delivered blobs to the digest topic failed; retrying with the next ones'),
    );
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    await this.#read();
    this.#state = 'started';
  }

  /** Digests are sets and sweep states go latest-wins, so reading everything again only adds what is new. */
  async reload(): Promise<void> {
    if (this.#state !== 'started') return;
    await this.#read();
  }

  async #read(): Promise<void> {
    let invalid = 0;
    await this.#backend.readAll((key, value) => {
      const decoded = decodeDigestRecord(key, value);
      if (decoded.kind === 'delivered') for (const b of decoded.blobs) this.#digests.add(decoded.key, b.hash, b.createdMs);
      else if (decoded.kind === 'sweep') this.#digests.setState(decoded.key, decoded.state);
      else invalid += 1;
    });
    this.#digests.prune(this.#now() - RETENTION_MS);
    // An unreadable record can only make the sweep collect a blob again, never skip one.
    if (invalid > 0) this.#log.warn({ invalid }, 'Ignored unreadable digest records');
    this.#log.info(this.#digests.stats(), 'Loaded the digests of delivered blobs');
  }

  unitRecords(key: CursorKey, blob: DeliveredBlob): readonly KeyedRecord[] {
    return [{ topic: this.#backend.topic, ...encodeDelivered(cursorKeyString(key), [blob]) }];
  }

  delivered(key: CursorKey, blob: DeliveredBlob, persisted: boolean): void {
    const k = cursorKeyString(key);
    this.#digests.add(k, contentIdHash(blob.contentId), blob.createdMs);
    if (persisted) return;
    const list = this.#pending.get(k) ?? [];
    list.push({ contentId: blob.contentId, createdMs: blob.createdMs });
    this.#pending.set(k, list);
    if (this.#state === 'started') this.#flush.request();
  }

  open(key: CursorKey): Promise<DeliveredView> {
    this.#digests.prune(this.#now() - RETENTION_MS);
    const k = cursorKeyString(key);
    return Promise.resolve({ has: (blob: DeliveredBlob) => this.#digests.has(k, contentIdHash(blob.contentId), blob.createdMs) });
  }

  sweepState(key: CursorKey): SweepState | undefined {
    const state = this.#digests.state(cursorKeyString(key));
    return state === undefined ? undefined : { ...state };
  }

  async saveSweepState(key: CursorKey, state: SweepState): Promise<void> {
    const k = cursorKeyString(key);
    await new Promise<void>((resolve, reject) => {
      this.#states.push({ record: encodeSweepState(k, state), done: (error) => (error === undefined ? resolve() : reject(error)) });
      this.#stateWriter.request();
    });
    this.#digests.setState(k, state);
  }

  async #writeStates(): Promise<void> {
    const batch = this.#states;
    this.#states = [];
    for (const part of chunk(batch, 1000)) {
      try {
        await this.#backend.write(part.map((s) => s.record));
        for (const s of part) s.done();
      } catch (error) {
        const failure = error instanceof Error ? error : new Error('Writing sweep states failed');
        for (const s of part) s.done(failure);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const started = this.#state === 'started';
    this.#state = 'stopped';
    if (started && this.#pending.size > 0) this.#flush.request();
    await this.#flush.flush();
    await this.#backend.close();
  }

  async #writePending(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending];
    this.#pending.clear();
    try {
      // Bounded records: a record of 2,000 blobs is about 50 KB.
      await this.#backend.write(batch.flatMap(([k, blobs]) => chunk(blobs, 2000).map((part) => encodeDelivered(k, part))));
    } catch (error) {
      for (const [k, blobs] of batch) this.#pending.set(k, [...blobs, ...(this.#pending.get(k) ?? [])]);
      throw error;
    }
  }
}
