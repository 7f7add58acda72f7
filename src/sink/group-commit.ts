import type { Cursor } from '../contracts/checkpoint.ts';
import type { BlobProgress, CursorSource } from '../contracts/sink.ts';

/**
 * Group commit (Kafka Streams' commit.interval.ms, Kafka Connect's transaction.boundary=interval):
 * units that finished within a short interval are written together — one transaction in
 * exactly-once mode, one batch of produce requests at least once — instead of one each. SDK-free:
 * the Kafka sink and the in-memory sink differ only in the `write` they pass.
 */

export interface GroupLimits {
  /** A group is written this long after its first part joined (sooner when full). */
  intervalMs: number;
  /** Records (events, dead letters, keyed records) that make a group full. */
  maxRecords: number;
  /** Held bytes that make a group full; also the size at which a huge blob commits a slice. */
  maxBytes: number;
}

/** One unit (or slice) waiting for its group. */
export interface GroupPart<P> {
  payload: P;
  records: number;
  bytes: number;
  /** The blob this part advances, with the tenant's cursor source. */
  progress?: { source: CursorSource; contentId: string; progress: BlobProgress } | undefined;
}

/** A cursor to write in the group, computed when the group is built. */
export interface CursorWrite {
  source: CursorSource;
  cursor: Cursor;
}

export interface GroupCommitterOptions<P> extends GroupLimits {
  /** Writes cursors too (exactly-once); at-least-once groups never ask sources for cursors. */
  writesCursors: boolean;
  /** Makes the group durable. Throws when it is not: every part of the group is then rejected. */
  write(parts: readonly P[], cursors: readonly CursorWrite[]): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

interface OpenGroup<P> {
  parts: Array<GroupPart<P>>;
  waiters: Waiter[];
  /** Sources asked for a cursor even though none of their blobs is in the group (listing progress). */
  cursorOnly: Set<CursorSource>;
  records: number;
  bytes: number;
  due: boolean;
  /** Due as soon as it is complete (someone is waiting to stop). */
  urgent: boolean;
  timer: NodeJS.Timeout | undefined;
}

export class GroupCommitter<P> {
  readonly #options: GroupCommitterOptions<P>;
  #open: OpenGroup<P> | undefined;
  #writing = false;
  #closed: Error | undefined;

  constructor(options: GroupCommitterOptions<P>) {
    this.#options = options;
  }

  /** True when `bytes`/`records` held by one unit are a group's worth: time for a slice. */
  isFull(records: number, bytes: number): boolean {
    return records >= this.#options.maxRecords || bytes >= this.#options.maxBytes;
  }

  /** Adds a part to the next group; resolves when that group is durable. */
  submit(part: GroupPart<P>): Promise<void> {
    return this.#join((group) => {
      group.parts.push(part);
      group.records += part.records;
      group.bytes += part.bytes;
    });
  }

  /**
   * Asks `source` for its cursor when the next group is built; resolves when that group is durable.
   * `promptly`: the group is due now rather than at the end of its interval.
   */
  requestCursor(source: CursorSource, promptly = false): Promise<void> {
    if (!this.#options.writesCursors) return Promise.resolve();
    return this.#join((group) => {
      group.cursorOnly.add(source);
      if (promptly) group.urgent = true;
    });
  }

  /** Rejects whatever waits for a group; later submissions are refused with `reason`. */
  close(reason: Error): void {
    this.#closed = reason;
    const group = this.#open;
    this.#open = undefined;
    if (group === undefined) return;
    clearTimeout(group.timer);
    for (const waiter of group.waiters) waiter.reject(reason);
  }

  #join(add: (group: OpenGroup<P>) => void): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const group = (this.#open ??= this.#newGroup());
    add(group);
    const done = new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }));
    if (group.urgent || this.isFull(group.records, group.bytes)) this.#markDue(group);
    return done;
  }

  #newGroup(): OpenGroup<P> {
    const group: OpenGroup<P> = { parts: [], waiters: [], cursorOnly: new Set(), records: 0, bytes: 0, due: false, urgent: false, timer: undefined };
    // Interval 0: written as soon as the current continuation ends (what unit tests on a manual clock use).
    if (this.#options.intervalMs <= 0) queueMicrotask(() => this.#markDue(group));
    else group.timer = setTimeout(() => this.#markDue(group), this.#options.intervalMs);
    return group;
  }

  #markDue(group: OpenGroup<P>): void {
    group.due = true;
    clearTimeout(group.timer);
    this.#kick();
  }

  /** Writes the open group once it is due and the previous write finished: groups are written one at a time. */
  #kick(): void {
    const group = this.#open;
    if (this.#writing || group === undefined || !group.due) return;
    this.#open = undefined;
    this.#writing = true;
    void this.#write(group).finally(() => {
      this.#writing = false;
      this.#kick();
    });
  }

  async #write(group: OpenGroup<P>): Promise<void> {
    const progress = new Map<CursorSource, Map<string, BlobProgress>>();
    for (const part of group.parts) {
      if (part.progress === undefined) continue;
      const forSource = progress.get(part.progress.source) ?? new Map<string, BlobProgress>();
      progress.set(part.progress.source, forSource);
      const previous = forSource.get(part.progress.contentId);
      // Slices of one blob in one group: the furthest one counts; `done` beats any position.
      if (previous === undefined || !previous.done) forSource.set(part.progress.contentId, part.progress.progress);
    }
    for (const source of group.cursorOnly) if (!progress.has(source)) progress.set(source, new Map());
    const cursors: CursorWrite[] = [];
    const written = new Map<CursorSource, Cursor | undefined>();
    try {
      if (this.#options.writesCursors) {
        // Built now, after every earlier group ended: a cursor counts only this group's blobs and
        // those of groups already committed as done (DESIGN invariant 1).
        for (const [source, blobs] of progress) {
          const cursor = source.cursorAfter(blobs);
          written.set(source, cursor);
          if (cursor !== undefined) cursors.push({ source, cursor });
        }
      }
      if (group.parts.length > 0 || cursors.length > 0) {
        await this.#options.write(
          group.parts.map((part) => part.payload),
          cursors,
        );
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const waiter of group.waiters) waiter.reject(failure);
      return;
    }
    // Sources learn what is durable before any waiter runs and before the next group is built.
    for (const [source, blobs] of progress) source.committed(blobs, written.get(source));
    for (const waiter of group.waiters) waiter.resolve();
  }
}
