/**
 * Checkpoints: one cursor per (tenant, content type), the Kafka Connect "source partition → source
 * offset" model. The committed cursor never covers a blob whose records Kafka has not acknowledged.
 */
export interface CursorKey {
  tenantId: string;
  contentType: string;
}

export interface Cursor {
  /**
   * ISO 8601 UTC. Every listed blob with contentCreated before this instant is done (delivered or
   * rejected). The next listing starts at lowerBound − overlap.
   */
  lowerBound: string;
  /**
   * contentId → contentCreated (ISO) of blobs already done at or after lowerBound − overlap, so the
   * overlapping re-listing does not process them twice. Bounded by the tracker's in-flight cap.
   */
  done: Record<string, string>;
  /**
   * contentId → items of its JSON array already accounted for, for a blob published in slices and not
   * finished yet: a restart resumes that blob after them. Absent when no blob is part-way.
   */
  positions?: Record<string, number>;
  /**
   * ISO 8601 UTC. The first run's lower bound (now − firstRunLookbackHours): listings never start
   * before it, so restarts during the first run cannot reach further back than asked for.
   */
  notBefore?: string;
  /** When the cursor was produced (ISO 8601 UTC); informative only. */
  updatedAt: string;
}

export function cursorKeyString(key: CursorKey): string {
  return `${key.tenantId}|${key.contentType}`;
}

/**
 * Where cursors live between runs. Implementations: a compacted Kafka topic (production) and an
 * in-memory map (unit tests); both pass test/contract/checkpoint-store.contract.ts.
 */
export interface CheckpointStore {
  /** Called once before load/save; reads every stored cursor (may block until the store is reachable). */
  start(): Promise<void>;
  /** The last saved cursor for the key, or undefined on the first run. Only after start(). */
  load(key: CursorKey): Cursor | undefined;
  /** Resolves once the cursor is durable (for Kafka: acknowledged by all in-sync replicas). */
  save(key: CursorKey, cursor: Cursor): Promise<void>;
  /** Safe to call twice and before start. */
  stop(): Promise<void>;
}
