import { ConnectorError } from '../contracts/errors.ts';
import type { FileEvent, NormalizeResult } from '../contracts/file-event.ts';
import type { CursorSource, DeadLetter, DeliveryUnit, KeyedRecord, Sink } from '../contracts/sink.ts';
import { parseRecords } from '../parse/records.ts';
import type { RecentEventIds } from './recent-event-ids.ts';
import { BlobTally } from './tally.ts';

export interface BlobRef {
  tenantId: string;
  contentId: string;
  contentUri: string;
  /** The listing's contentCreated, for side records that file the blob by day (sweep digests). */
  contentCreated?: string;
}

/**
 * Records for other topics that must become visible exactly with a blob's events (drives, digests).
 * Pure and fast: they run while the unit is being filled.
 */
export interface SideRecordHooks {
  /** Per batch of events about to be held in the unit; the records join the same unit or slice. */
  forEvents?(tenantId: string, events: readonly FileEvent[]): readonly KeyedRecord[];
  /** Once, when the blob is complete (its last slice, or its dead letter). */
  forBlobDone?(blob: BlobRef): readonly KeyedRecord[];
}

export interface DeliverBlobOptions {
  sink: Sink;
  normalize: (record: unknown) => NormalizeResult;
  recentIds: RecentEventIds;
  batchEvents: number;
  /** On the last attempt a malformed blob keeps what parsed and dead-letters the rest; before it, the blob is retried. */
  finalAttempt: boolean;
  /** The tenant's cursor: every commit reports this blob's progress to it, in the same transaction. */
  cursor: CursorSource;
  /** Items of the blob's array already durable (earlier slices, before a retry or a restart): skipped. */
  startAt: number;
  /** A slice or the whole blob became durable; its tally may be counted now, not before. */
  onDurable: (tally: BlobTally) => void;
  /** The blob's last part joined its group: what remains is waiting for the commit, no more work. */
  onSubmitted?: () => void;
  sideRecords?: SideRecordHooks | undefined;
}

export const BLOB_MALFORMED = 'BLOB_MALFORMED';

/**
 * Publishes one downloaded blob as one delivery unit — or, when it holds more than a group's worth,
 * as slices, each committed with the position reached so a restart resumes after it. Every record
 * ends as a published event, a counted filter, or a dead letter (invariant 2). Nothing is counted and
 * no id is remembered until its slice commits; a failure aborts the unit and the caller retries the
 * blob from the last durable slice.
 */
export async function deliverBlob(blob: BlobRef, content: AsyncIterable<Uint8Array>, options: DeliverBlobOptions): Promise<BlobTally> {
  const total = new BlobTally();
  let tally = new BlobTally();
  const unit = await options.sink.begin(blob.tenantId);
  const seenInBlob = new Set<string>();
  let sliceIds: string[] = [];
  let deadLetters: DeadLetter[] = [];
  let batch: FileEvent[] = [];
  const deadLetter = (reason: string, stage: string, detail: string, payload: string | null, recordId: string | null): void => {
    BlobTally.bump(tally.rejected, reason);
    deadLetters.push({ tenantId: blob.tenantId, reason, stage, contentId: blob.contentId, contentUri: blob.contentUri, recordId, detail, payload });
  };
  const hold = async (): Promise<void> => {
    if (batch.length > 0) {
      await unit.send(batch);
      const side = options.sideRecords?.forEvents?.(blob.tenantId, batch);
      if (side !== undefined && side.length > 0) await unit.attach(side);
      batch = [];
    }
    if (deadLetters.length > 0) {
      await unit.deadLetter(deadLetters);
      deadLetters = [];
    }
  };
  const durable = (): void => {
    options.recentIds.addAll(sliceIds);
    options.recentIds.release(sliceIds);
    options.onDurable(tally);
    merge(total, tally);
    tally = new BlobTally();
    sliceIds = [];
  };
  try {
    for await (const item of parseRecords(content)) {
      if (item.index < options.startAt) continue;
      if (item.kind === 'malformed') {
        if (!options.finalAttempt) {
          throw new ConnectorError(BLOB_MALFORMED, `Blob ${blob.contentId} is malformed at record ${item.index}: ${item.detail}`, { stage: 'parse', retriable: true });
        }
        deadLetter('unparsable-json', 'parse', item.detail, item.raw, null);
        continue;
      }
      const result = options.normalize(item.value);
      if (result.kind === 'filtered') {
        BlobTally.bump(tally.filtered, result.reason);
      } else if (result.kind === 'rejected') {
        deadLetter(result.reason, 'normalize', result.detail, safeJson(item.value), recordIdOf(item.value));
      } else {
        const id = result.event.event.id;
        if (seenInBlob.has(id) || options.recentIds.has(id)) {
          BlobTally.bump(tally.filtered, 'duplicate');
          continue;
        }
        seenInBlob.add(id);
        sliceIds.push(id);
        options.recentIds.hold(id);
        BlobTally.bump(tally.published, result.event.event.action);
        batch.push(result.event);
        if (batch.length >= options.batchEvents) await hold();
      }
      if (unit.full) {
        // A group's worth held: commit it as a slice, with the position reached, and go on.
        await hold();
        await unit.commitSlice({ source: options.cursor, contentId: blob.contentId, publishedIds: sliceIds }, item.index + 1);
        durable();
      }
    }
    await hold();
    const side = options.sideRecords?.forBlobDone?.(blob);
    if (side !== undefined && side.length > 0) await unit.attach(side);
    const committing = unit.commit({ source: options.cursor, contentId: blob.contentId, publishedIds: sliceIds });
    options.onSubmitted?.();
    await committing;
  } catch (error) {
    options.recentIds.release(sliceIds);
    await unit.abort().catch(() => undefined);
    throw error;
  }
  durable();
  return total;
}

/** A blob that cannot be read at all (expired, refused host, gone): one dead letter, committed like a blob. */
export async function rejectBlob(
  blob: BlobRef,
  reason: string,
  detail: string,
  options: Pick<DeliverBlobOptions, 'sink' | 'cursor' | 'sideRecords'>,
): Promise<void> {
  const unit: DeliveryUnit = await options.sink.begin(blob.tenantId);
  try {
    await unit.deadLetter([{ tenantId: blob.tenantId, reason, stage: 'download', contentId: blob.contentId, contentUri: blob.contentUri, recordId: null, detail, payload: null }]);
    const side = options.sideRecords?.forBlobDone?.(blob);
    if (side !== undefined && side.length > 0) await unit.attach(side);
    await unit.commit({ source: options.cursor, contentId: blob.contentId });
  } catch (error) {
    await unit.abort().catch(() => undefined);
    throw error;
  }
}

function merge(into: BlobTally, from: BlobTally): void {
  for (const key of ['published', 'filtered', 'rejected'] as const) for (const [k, n] of from[key]) BlobTally.bump(into[key], k, n);
}

function recordIdOf(record: unknown): string | null {
  if (typeof record === 'object' && record !== null && 'Id' in record) {
    const id = record.Id;
    return typeof id === 'string' ? id : null;
  }
  return null;
}

function safeJson(value: unknown): string | null {
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    return null;
  }
}
