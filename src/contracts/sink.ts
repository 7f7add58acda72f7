import type { Cursor, CursorKey } from './checkpoint.ts';
import type { FileEvent } from './file-event.ts';

/** A record or blob that cannot be published, with why. Goes to the dead-letter topic and is counted. */
export interface DeadLetter {
  tenantId: string;
  /** Short stable reason, e.g. `missing-field`, `unparsable-json`, `content-expired`, `foreign-host`. */
  reason: string;
  stage: string;
  contentId: string | null;
  contentUri: string | null;
  recordId: string | null;
  detail: string;
  /** The offending raw text, capped by the sink; null when there is none (e.g. an expired blob). */
  payload: string | null;
}

/**
 * A keyed record for another topic that becomes visible exactly when the unit it was attached to does
 * (exactly-once: in the same transaction). For the connector's side topics: a drive on the compacted
 * drives topic, a connection-status event, a tenant-registry record, a delivered-contentId digest.
 * The sink treats it as opaque; whoever owns the topic creates it (src/kafka/topics.ts) and encodes it.
 */
export interface KeyedRecord {
  /** The topic's real name (from the configuration). */
  topic: string;
  key: string;
  /** The serialized value (JSON text by convention); null writes a tombstone on a compacted topic. */
  value: string | null;
  headers?: Readonly<Record<string, string>>;
}

/** How far one blob got in a unit or slice that became durable. */
export type BlobProgress =
  /** Every record of the blob is published, filtered or dead-lettered. */
  | { done: true }
  /** A slice of a huge blob: the first `records` items of its JSON array are accounted for. */
  | { done: false; records: number };

/**
 * The owner of one (tenant, content type) cursor: the poller's checkpoint tracker. The sink calls it
 * synchronously while it builds a group and right after the group became durable, so a cursor written
 * in a group only ever counts as done the blobs of that group and of groups committed before it.
 */
export interface CursorSource {
  readonly key: CursorKey;
  /**
   * The cursor to write as if `progress` (this key's blobs in the group being built) were durable,
   * or undefined when nothing worth writing changed (a tenant that did not move writes nothing;
   * clock-only moves are rate-limited by the source).
   */
  cursorAfter(progress: ReadonlyMap<string, BlobProgress>): Cursor | undefined;
  /**
   * `progress` is durable, and so is `cursor` when one was written (exactly-once: the group
   * committed; at-least-once: Kafka acknowledged the records). Called before the next group is built.
   */
  committed(progress: ReadonlyMap<string, BlobProgress>, cursor: Cursor | undefined): void;
}

/** What a unit (or a slice of one) reports about the blob it carries. */
export interface UnitCheckpoint {
  source: CursorSource;
  contentId: string;
  /**
   * Ids of the events this unit or slice published. Exactly-once: written in the same transaction, so
   * after a restart the connector can rebuild which ids it already published and drop Microsoft's
   * repeats (DESIGN inv. 1).
   */
  publishedIds?: readonly string[];
}

/**
 * One blob's worth of output (or keyed records on their own). Opened by the pipeline after the blob
 * is fully downloaded, so no API call happens while its output waits for a group. Output is held in
 * memory until the unit (or a slice) commits and joins the shard's next group: one transaction
 * (exactly-once) or one batch of produce requests (at-least-once) for every unit that finished in
 * the group's interval, across the shard's tenants.
 */
export interface DeliveryUnit {
  /** Adds events. Cheap (serializes and holds); check `full` afterwards. */
  send(events: readonly FileEvent[]): Promise<void>;
  deadLetter(items: readonly DeadLetter[]): Promise<void>;
  /** Adds keyed records for side topics; visible exactly when this unit's events are. */
  attach(records: readonly KeyedRecord[]): Promise<void>;
  /** The unit holds a group's worth of output: a huge blob should commit a slice now. */
  readonly full: boolean;
  /**
   * Commits what the unit holds as one slice of the blob, covering its first `records` items; the
   * cursor written with it carries that position, so a restart resumes mid-blob. Resolves when the
   * slice is durable; the unit stays open for the rest. Rejects (and ends the unit) if the group failed.
   */
  commitSlice(checkpoint: UnitCheckpoint, records: number): Promise<void>;
  /**
   * Joins the next group and resolves when it is durable (exactly-once: committed; at-least-once:
   * acknowledged). With a checkpoint the blob counts as done and its tenant's cursor is written in
   * the same transaction; without one (keyed records alone) no cursor is written. A failed group
   * rejects every unit in it, and nothing of them is visible to read_committed consumers.
   */
  commit(checkpoint?: UnitCheckpoint): Promise<void>;
  /** Gives the unit up; nothing held is published. Safe twice and after a failed commit. */
  abort(): Promise<void>;
}

export interface Sink {
  /** Connects; in exactly-once mode fences older producers of the same shard first. */
  start(): Promise<void>;
  /** Opens a unit for a tenant. Does not wait for other units: they commit together in groups. */
  begin(tenantId: string): Promise<DeliveryUnit>;
  /**
   * Exactly-once: asks `source` for its cursor when the next group is built and writes it in that
   * transaction; resolves when the group committed (at once when no group is needed).
   * At-least-once: cursors go through the CheckpointStore instead; this resolves at once.
   * `promptly` writes that group now instead of at the end of its interval (a poller stopping).
   */
  saveCursor(source: CursorSource, options?: { promptly?: boolean }): Promise<void>;
  /** True when the sink writes cursors inside its transactions (exactly-once mode). */
  readonly transactional: boolean;
  /** Safe to call twice and before start. Units not committed by then are dropped. */
  stop(): Promise<void>;
}
