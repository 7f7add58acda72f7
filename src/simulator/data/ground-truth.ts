import { RETENTION_MS } from '../api/time-window.ts';
import { isListed, type Tenant } from '../tenants.ts';

export interface ExpectedRecord {
  id: string;
  operation: string;
  workload: string;
  recordType: number;
  /** The first blob (in contentCreated order) that carries the record. */
  contentId: string;
  /** The record as first served, so a test can run it through the real normalizer. */
  json: string;
}

export interface ExpectedBlob {
  contentId: string;
  contentCreated: string;
  availableAt: string;
  /** Records in the blob, duplicates included. */
  recordCount: number;
  /** Id of the record whose copy in this blob is persistently malformed (the `faulty` scenario), if any. */
  corruptedRecordId: string | undefined;
}

export interface GroundTruth {
  /** Unique records by Id that some blob delivers intact (a malformed copy cannot be parsed, so it cannot be published). */
  records: Map<string, ExpectedRecord>;
  blobs: ExpectedBlob[];
  /** Records served in total, duplicates included. */
  servedRecords: number;
  /** Ids whose only copies are malformed: a client can dead-letter them but never publish them. */
  corruptedRecordIds: Set<string>;
}

export interface GroundTruthQuery {
  /** Only blobs whose contentCreated is before this instant (epoch ms, Date or ISO string). */
  untilContentCreated?: number | Date | string;
  /** Only blobs created at or after this instant; default now − 7 days (older blobs have expired). */
  sinceContentCreated?: number | Date | string;
}

function toMs(value: number | Date | string): number {
  return typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : value.getTime();
}

/** What a perfect client would have collected: every record of every blob listed at `nowMs`. */
export function computeGroundTruth(tenant: Tenant, nowMs: number, query: GroundTruthQuery = {}): GroundTruth {
  const since = query.sinceContentCreated === undefined ? nowMs - RETENTION_MS + 1 : toMs(query.sinceContentCreated);
  const until = query.untilContentCreated === undefined ? nowMs + 1 : toMs(query.untilContentCreated);
  const records = new Map<string, ExpectedRecord>();
  const corruptedRecordIds = new Set<string>();
  const blobs: ExpectedBlob[] = [];
  let servedRecords = 0;
  for (const blob of tenant.catalog.blobsBetween(since, until)) {
    if (!isListed(tenant, 'Audit.SharePoint', blob, nowMs)) continue;
    const corruptAt = tenant.catalog.corruptedRecordIndex(blob);
    let count = 0;
    let corruptedRecordId: string | undefined;
    for (const record of tenant.catalog.records(blob)) {
      if (count === corruptAt) {
        corruptedRecordId = record.id;
        corruptedRecordIds.add(record.id);
      } else if (!records.has(record.id)) {
        records.set(record.id, { id: record.id, operation: record.operation, workload: record.workload, recordType: record.recordType, contentId: blob.contentId, json: record.json });
      }
      count++;
    }
    servedRecords += count;
    blobs.push({ contentId: blob.contentId, contentCreated: new Date(blob.contentCreated).toISOString(), availableAt: new Date(blob.availableAt).toISOString(), recordCount: count, corruptedRecordId });
  }
  // A corrupted copy does not lose a record that another blob (or a duplicate) delivers intact.
  for (const id of records.keys()) corruptedRecordIds.delete(id);
  return { records, blobs, servedRecords, corruptedRecordIds };
}
