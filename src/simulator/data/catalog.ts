/**
 * Where a tenant's blobs come from: a synthetic generator or a recorded fixture. The API layer only
 * sees this interface, so listing windows, paging and expiry behave the same for both.
 */
export interface BlobEntry {
  contentId: string;
  /** Epoch ms; what /subscriptions/content filters on (o365-api.md §1.7). */
  contentCreated: number;
  /** Epoch ms from which the blob is listed; later than contentCreated for late blobs (§2.5). */
  availableAt: number;
}

/** One record of a blob as served: its JSON text plus what ground truth needs without re-parsing. */
export interface ServedRecord {
  json: string;
  id: string;
  operation: string;
  workload: string;
  recordType: number;
}

export interface BlobCatalog {
  /** Blobs with contentCreated in [fromMs, toMs), ordered by contentCreated. May include blobs not yet available. */
  blobsBetween(fromMs: number, toMs: number): BlobEntry[];
  find(contentId: string): BlobEntry | undefined;
  /** The body's leading bytes before the `[` (a UTF-8 BOM for some blobs, o365-api.md §1.8 / filebeat-o365.md §1.9). */
  prefix(entry: BlobEntry): string;
  /** The blob's records in served order (duplicates included), generated lazily. */
  records(entry: BlobEntry): Iterable<ServedRecord>;
  /**
   * Index of a record that is persistently corrupted in this blob (the `faulty` scenario), or
   * undefined. Corruption is part of the data, so every download shows it.
   */
  corruptedRecordIndex(entry: BlobEntry): number | undefined;
}

export const UTF8_BOM = '\uFEFF';
