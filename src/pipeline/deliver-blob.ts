import { ConnectorError } from '../contracts/errors.ts';
import type { FileEvent, NormalizeResult } from '../contracts/file-event.ts';
import type { DeadLetter, Sink, UnitCheckpoint } from '../contracts/sink.ts';
import { parseRecords } from '../parse/records.ts';
import type { RecentEventIds } from './recent-event-ids.ts';
import { BlobTally } from './tally.ts';

export interface BlobRef {
  tenantId: string;
  contentId: string;
  contentUri: string;
}

export interface DeliverBlobOptions {
  sink: Sink;
  normalize: (record: unknown) => NormalizeResult;
  recentIds: RecentEventIds;
  batchEvents: number;
  /** On the last attempt a malformed blob keeps what parsed and dead-letters the rest; before it, the blob is retried. */
  finalAttempt: boolean;
  /** Exactly-once mode: the cursor to commit with this blob, computed when the commit happens. */
  checkpoint: () => Omit<UnitCheckpoint, 'publishedIds'> | undefined;
}

export const BLOB_MALFORMED = 'BLOB_MALFORMED';

/**
 * Publishes one downloaded blob as one delivery unit: every record ends as a published event, a
 * counted filter, or a dead letter (invariant 2). Nothing is counted and no id is remembered until the
 * unit commits; a failure aborts the unit and the caller retries the blob.
 */
export async function deliverBlob(blob: BlobRef, content: AsyncIterable<Uint8Array>, options: DeliverBlobOptions): Promise<BlobTally> {
  const tally = new BlobTally();
  const unit = await options.sink.begin(blob.tenantId);
  const seenInBlob = new Set<string>();
  const deadLetters: DeadLetter[] = [];
  let batch: FileEvent[] = [];
  const deadLetter = (reason: string, stage: string, detail: string, payload: string | null, recordId: string | null): void => {
    BlobTally.bump(tally.rejected, reason);
    deadLetters.push({ tenantId: blob.tenantId, reason, stage, contentId: blob.contentId, contentUri: blob.contentUri, recordId, detail, payload });
  };
  try {
    for await (const item of parseRecords(content)) {
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
        BlobTally.bump(tally.published, result.event.event.action);
        batch.push(result.event);
        if (batch.length >= options.batchEvents) {
          await unit.send(batch);
          batch = [];
        }
      }
    }
    if (batch.length > 0) await unit.send(batch);
    if (deadLetters.length > 0) await unit.deadLetter(deadLetters);
    const checkpoint = options.sink.transactional ? options.checkpoint() : undefined;
    await unit.commit(checkpoint === undefined ? undefined : { ...checkpoint, publishedIds: [...seenInBlob] });
  } catch (error) {
    await unit.abort().catch(() => undefined);
    throw error;
  }
  options.recentIds.addAll(seenInBlob);
  return tally;
}

/** A blob that cannot be read at all (expired, refused host, gone): one dead letter, committed like a blob. */
export async function rejectBlob(
  blob: BlobRef,
  reason: string,
  detail: string,
  options: Pick<DeliverBlobOptions, 'sink' | 'checkpoint'>,
): Promise<void> {
  const unit = await options.sink.begin(blob.tenantId);
  try {
    await unit.deadLetter([{ tenantId: blob.tenantId, reason, stage: 'download', contentId: blob.contentId, contentUri: blob.contentUri, recordId: null, detail, payload: null }]);
    await unit.commit(options.sink.transactional ? options.checkpoint() : undefined);
  } catch (error) {
    await unit.abort().catch(() => undefined);
    throw error;
  }
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
