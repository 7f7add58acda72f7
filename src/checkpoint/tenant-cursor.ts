import type { Cursor, CursorKey } from '../contracts/checkpoint.ts';
import type { BlobProgress, CursorSource } from '../contracts/sink.ts';
import type { CheckpointTracker } from './tracker.ts';

export interface TenantCursorOptions {
  key: CursorKey;
  tracker: CheckpointTracker;
  now: () => number;
  /**
   * Cursors that moved only because listing reached further (no blob became durable) are written at
   * most once per this interval. Idle tenants would otherwise write one cursor per poll each; the
   * window overlap re-lists far more than this on a restart anyway.
   */
  idleSaveIntervalMs: number;
  /** The cursor loaded at start (or the first run's), taken as written. */
  initial: Cursor;
  /** Blobs became durable (after the tracker learnt it): at-least-once mode saves the cursor then. */
  onDurable?: () => void;
}

/** What makes two cursors different for saving purposes (updatedAt is informative only). */
function fingerprint(cursor: Cursor): string {
  return JSON.stringify([cursor.lowerBound, cursor.done, cursor.positions ?? null, cursor.notBefore ?? null]);
}

/**
 * One (tenant, content type) cursor as the sink sees it (CursorSource): what to write in a group,
 * and what became durable. Decides when a cursor is worth writing: never when unchanged, at once when
 * blobs progressed, and rate-limited when only the clock moved.
 */
export class TenantCursor implements CursorSource {
  readonly key: CursorKey;
  readonly #o: TenantCursorOptions;
  #written: string;
  /** When the last clock-only move was handed out for writing. */
  #clockOnlyAtMs = Number.NEGATIVE_INFINITY;
  /** Blobs became durable since the last cursor was written. */
  #progressed = false;
  #force = false;

  constructor(options: TenantCursorOptions) {
    this.key = options.key;
    this.#o = options;
    this.#written = fingerprint(options.initial);
  }

  cursorAfter(progress: ReadonlyMap<string, BlobProgress>): Cursor | undefined {
    return this.#decide(this.#o.tracker.cursor(this.#o.now(), progress), progress.size > 0, true);
  }

  committed(progress: ReadonlyMap<string, BlobProgress>, cursor: Cursor | undefined): void {
    this.#o.tracker.apply(progress);
    if (cursor !== undefined) this.written(cursor);
    else if (progress.size > 0) this.#progressed = true;
    if (progress.size > 0) this.#o.onDurable?.();
  }

  /** The cursor to save now outside a group (at-least-once, through the CheckpointStore), if any. */
  toSave(): Cursor | undefined {
    return this.#decide(this.#o.tracker.cursor(this.#o.now()), false, true);
  }

  /** Whether a save now would write anything (no side effect: the group asks again when it is built). */
  wouldSave(): boolean {
    return this.#decide(this.#o.tracker.cursor(this.#o.now()), false, false) !== undefined;
  }

  /** `cursor` is durable (written in a group or saved in the store). */
  written(cursor: Cursor): void {
    this.#written = fingerprint(cursor);
    this.#progressed = false;
    this.#force = false;
  }

  /** The next decision writes any change, however recent the last write (stopping: save what we have). */
  forceNext(): void {
    this.#force = true;
  }

  #decide(cursor: Cursor, progress: boolean, handOut: boolean): Cursor | undefined {
    if (fingerprint(cursor) === this.#written) return undefined;
    const clockOnly = !progress && !this.#progressed && !this.#force;
    if (clockOnly) {
      // The first clock-only move after a while goes out at once (a tenant that just caught up
      // says so); the next ones wait for the interval.
      const now = this.#o.now();
      if (now - this.#clockOnlyAtMs < this.#o.idleSaveIntervalMs) return undefined;
      if (handOut) this.#clockOnlyAtMs = now;
    }
    return cursor;
  }
}
