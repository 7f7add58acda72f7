import type { Cursor } from '../contracts/checkpoint.ts';
import type { BlobProgress } from '../contracts/sink.ts';

export interface TrackedBlob {
  contentId: string;
  /** contentCreated in ms: the listing axis the cursor moves along. */
  createdMs: number;
}

export interface TrackerOptions {
  /** Blobs tracked but not yet done; `track` waits past this. This is where backpressure lives. */
  maxInFlight: number;
  /** Done blobs are remembered this far behind the lower bound, to skip them when windows overlap. */
  overlapMs: number;
}

/**
 * Acknowledgement tracker for one (tenant, content type), after Kafka Connect's SubmittedRecords and
 * Redpanda Connect's capped checkpointer. A blob is pending from listing until it is done (delivered
 * or rejected); the committable cursor is the low watermark: nothing listed before `lowerBound` is
 * still pending. Pending blobs are capped, so a slow Kafka stops listing instead of growing a queue.
 */
export class CheckpointTracker {
  readonly #options: TrackerOptions;
  readonly #pending = new Map<string, number>();
  readonly #done = new Map<string, number>();
  /** Pending blobs published part-way (slices): items of their JSON array already durable. */
  readonly #positions = new Map<string, number>();
  /** Listings never start before this (the first run's lower bound); see Cursor.notBefore. */
  readonly #notBefore: number | undefined;
  /** The listing has been read completely up to here (exclusive). */
  #listedUpTo: number;
  #waiters: Array<() => void> = [];

  constructor(initial: Cursor, options: TrackerOptions) {
    this.#options = options;
    this.#listedUpTo = Date.parse(initial.lowerBound);
    for (const [contentId, created] of Object.entries(initial.done)) this.#done.set(contentId, Date.parse(created));
    for (const [contentId, records] of Object.entries(initial.positions ?? {})) this.#positions.set(contentId, records);
    this.#notBefore = initial.notBefore === undefined ? undefined : Date.parse(initial.notBefore);
  }

  /** The first run's floor, if the cursor carries one. */
  get notBeforeMs(): number | undefined {
    return this.#notBefore;
  }

  /** Items of the blob's array already durable (slices), so a retry or a restart resumes after them. */
  position(contentId: string): number {
    return this.#positions.get(contentId) ?? 0;
  }

  /** What a group made durable: blobs done, or slices of blobs up to a position. */
  apply(progress: ReadonlyMap<string, BlobProgress>): void {
    for (const [contentId, p] of progress) {
      if (p.done) this.markDone(contentId);
      else if (this.#pending.has(contentId)) this.#positions.set(contentId, p.records);
    }
  }

  /** True when the blob is pending or already done: a re-listing must not process it again. */
  isKnown(contentId: string): boolean {
    return this.#pending.has(contentId) || this.#done.has(contentId);
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Registers a listed blob; waits while the in-flight cap is reached. */
  async track(blob: TrackedBlob, signal?: AbortSignal): Promise<void> {
    while (this.#pending.size >= this.#options.maxInFlight) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(signal?.reason as Error);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    this.#pending.set(blob.contentId, blob.createdMs);
  }

  /** The blob's records are acknowledged by Kafka (or it was dead-lettered): it may be committed past. */
  markDone(contentId: string): void {
    const created = this.#pending.get(contentId);
    if (created === undefined) return;
    this.#pending.delete(contentId);
    this.#positions.delete(contentId);
    this.#done.set(contentId, created);
    this.#prune();
    this.#wake();
  }

  /** Every blob with contentCreated before `endMs` has been listed and tracked. */
  markListedUpTo(endMs: number): void {
    if (endMs > this.#listedUpTo) this.#listedUpTo = endMs;
    this.#prune();
  }

  get listedUpToMs(): number {
    return this.#listedUpTo;
  }

  lowerBoundMs(): number {
    let lowest = this.#listedUpTo;
    for (const created of this.#pending.values()) if (created < lowest) lowest = created;
    return lowest;
  }

  /**
   * The cursor to commit. With `progress` it is the cursor as it will be once those pending blobs are
   * done or sliced that far — what exactly-once mode writes in the same transaction as their records.
   */
  cursor(nowMs: number, progress?: ReadonlyMap<string, BlobProgress>): Cursor {
    let lowest = this.#listedUpTo;
    const positions: Record<string, number> = {};
    let anyPosition = false;
    for (const [contentId, created] of this.#pending) {
      const p = progress?.get(contentId);
      if (p?.done === true) continue;
      if (created < lowest) lowest = created;
      const records = p === undefined ? this.#positions.get(contentId) : p.records;
      if (records !== undefined && records > 0) {
        positions[contentId] = records;
        anyPosition = true;
      }
    }
    const keepFrom = lowest - this.#options.overlapMs;
    const done: Record<string, string> = {};
    for (const [contentId, created] of this.#done) if (created >= keepFrom) done[contentId] = new Date(created).toISOString();
    for (const [contentId, p] of progress ?? []) {
      const created = this.#pending.get(contentId);
      if (p.done && created !== undefined && created >= keepFrom) done[contentId] = new Date(created).toISOString();
    }
    return {
      lowerBound: new Date(lowest).toISOString(),
      done,
      ...(anyPosition ? { positions } : {}),
      ...(this.#notBefore === undefined ? {} : { notBefore: new Date(this.#notBefore).toISOString() }),
      updatedAt: new Date(nowMs).toISOString(),
    };
  }

  #prune(): void {
    const keepFrom = this.lowerBoundMs() - this.#options.overlapMs;
    for (const [contentId, created] of this.#done) if (created < keepFrom) this.#done.delete(contentId);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
