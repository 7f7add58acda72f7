import type { Cursor, CursorKey } from './checkpoint.ts';
import type { KeyedRecord } from './delivered-log.ts';
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

/** What a unit commits with its records in exactly-once mode. */
export interface UnitCheckpoint {
  key: CursorKey;
  cursor: Cursor;
  /**
   * Ids of the events this unit published. Written in the same transaction, so after a restart the
   * connector can rebuild which ids it already published and drop Microsoft's repeats (DESIGN inv. 1).
   */
  publishedIds?: readonly string[];
  /**
   * Further records committed in the same transaction (the reconciliation sweep's digest of the blob,
   * issue 12). Stopgap until the group-commit contract says how extra keyed records join a unit.
   */
  extraRecords?: readonly KeyedRecord[];
}

/**
 * One blob's worth of output. Opened by the pipeline after the blob is fully downloaded (no API call
 * happens while a unit is open, so a transaction is never held across slow HTTP calls).
 */
export interface DeliveryUnit {
  /** Adds events. Resolves when Kafka has taken them (at-least-once: acknowledged; exactly-once: in the transaction). Blocks while Kafka is slow. */
  send(events: readonly FileEvent[]): Promise<void>;
  deadLetter(items: readonly DeadLetter[]): Promise<void>;
  /**
   * Makes everything sent durable. Exactly-once: writes `checkpoint` (required) in the same
   * transaction and commits. At-least-once: `checkpoint` is ignored (the pipeline saves cursors
   * through the CheckpointStore after the ack).
   */
  commit(checkpoint?: UnitCheckpoint): Promise<void>;
  /** Gives the unit up; in exactly-once mode nothing it sent becomes visible. Safe after a failed commit. */
  abort(): Promise<void>;
}

export interface Sink {
  /** Connects; in exactly-once mode fences older producers of the same shard first. */
  start(): Promise<void>;
  /** Opens a unit for a tenant. Exactly-once mode serialises units per shard: this waits for the previous one. */
  begin(tenantId: string): Promise<DeliveryUnit>;
  /** True when the sink writes cursors inside its transactions (exactly-once mode). */
  readonly transactional: boolean;
  /** Safe to call twice and before start. */
  stop(): Promise<void>;
}
