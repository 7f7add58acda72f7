import type { Cursor } from '../contracts/checkpoint.ts';

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
  /** The listing has been read completely up to here (exclusive). */
  #listedUpTo: number;
  #waiters: Array<() => void> = [];

  constructor(initial: Cursor, options: TrackerOptions) {
    this.#options = options;
    this.#listedUpTo = Date.parse(initial.lowerBound);
    for (const [contentId, created] of Object.entries(initial.done)) this.#done.set(contentId, Date.parse(created));
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
   * The cursor to commit. With `alsoDone` it is the cursor as it will be once that pending blob is
   * done — what exactly-once mode writes in the same transaction as the blob's events.
   */
  cursor(nowMs: number, alsoDone?: string): Cursor {
    let lowest = this.#listedUpTo;
    for (const [contentId, created] of this.#pending) if (contentId !== alsoDone && created < lowest) lowest = created;
    const keepFrom = lowest - this.#options.overlapMs;
    const done: Record<string, string> = {};
    for (const [contentId, created] of this.#done) if (created >= keepFrom) done[contentId] = new Date(created).toISOString();
    const extra = alsoDone === undefined ? undefined : this.#pending.get(alsoDone);
    if (alsoDone !== undefined && extra !== undefined && extra >= keepFrom) done[alsoDone] = new Date(extra).toISOString();
    return { lowerBound: new Date(lowest).toISOString(), done, updatedAt: new Date(nowMs).toISOString() };
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
