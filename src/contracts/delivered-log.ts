import type { CursorKey } from './checkpoint.ts';
import type { KeyedRecord } from './sink.ts';

/**
 * What the reconciliation sweep needs to remember (issue 12): which blobs were already delivered (or
 * dead-lettered) in the 7 days the API keeps, per (tenant, content type), across restarts. A blob the
 * sweep lists that is not in here was listed too late for the live poller's overlap.
 */
export interface DeliveredBlob {
  contentId: string;
  /** contentCreated in ms (the listing axis); decides the day the blob is kept under. */
  createdMs: number;
}


/** The sweep's bookkeeping per (tenant, content type), kept with the digests. */
export interface SweepState {
  /**
   * Blobs created before this were collected before the digests existed (or before the tenant was
   * added): the sweep never looks below it, so it cannot mistake them for late ones.
   */
  fromMs: number;
  /** End of the last sweep that listed the whole range; undefined until one finishes. */
  completedAtMs?: number | undefined;
  /** Start of the last sweep; later than completedAtMs when it was interrupted (resumed at start-up). */
  startedAtMs?: number | undefined;
}

/** The delivered blobs of one (tenant, content type), opened for the length of one sweep. */
export interface DeliveredView {
  has(blob: DeliveredBlob): boolean;
}

/**
 * Implementations: KafkaDeliveredLog (src/kafka/digest-store.ts) and MemoryDeliveredLog (tests).
 * `unitRecords` and `delivered` are called for every blob on the delivery path, so they are cheap and
 * never block; `open` and the sweep-state calls only while that tenant's sweep runs.
 */
export interface DeliveredLog {
  /** Reads what is stored (may block until the store is reachable). Called once before anything else. */
  start(): Promise<void>;
  /** Scale-out: reads the store again after shards were taken over, so their tenants' digests are current. */
  reload?(): Promise<void>;
  /** Exactly-once: the records a blob's unit commits with it, so the blob counts as delivered after a restart. */
  unitRecords(key: CursorKey, blob: DeliveredBlob): readonly KeyedRecord[];
  /**
   * The blob's unit committed. `persisted` says whether unitRecords went with it; when not
   * (at-least-once mode), the log writes the record itself, soon after.
   */
  delivered(key: CursorKey, blob: DeliveredBlob, persisted: boolean): void;
  open(key: CursorKey): Promise<DeliveredView>;
  sweepState(key: CursorKey): SweepState | undefined;
  /** Resolves once the state is durable. */
  saveSweepState(key: CursorKey, state: SweepState): Promise<void>;
  /** Writes what `delivered` still holds, then closes. Safe to call twice and before start. */
  stop(): Promise<void>;
}
