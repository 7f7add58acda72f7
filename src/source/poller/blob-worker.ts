import type { ContentListing } from '../../contracts/audit-record.ts';
import type { CursorKey } from '../../contracts/checkpoint.ts';
import type { KeyedRecord } from '../../contracts/delivered-log.ts';
import { ConnectorError, isConnectorError } from '../../contracts/errors.ts';
import type { CheckpointTracker } from '../../checkpoint/tracker.ts';
import { BLOB_MALFORMED, deliverBlob, rejectBlob, type BlobRef } from '../../pipeline/deliver-blob.ts';
import type { BlobTally } from '../../pipeline/tally.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { retryDelayMs } from '../../util/backoff.ts';
import type { SpooledBlob } from '../blob-spool.ts';
import { API_ERRORS } from '../o365/answers.ts';
import type { TenantPollerDeps } from './tenant-poller.ts';

/** Blob answers that will not get better with retries: dead-letter, count, commit past. */
const PERMANENT_BLOB_ERRORS = new Set<string>([API_ERRORS.contentExpired, API_ERRORS.foreignHost, 'INTERNAL']);
const NOT_FOUND_ATTEMPTS = 5;
const BLOB_REJECT_REASONS: Record<string, string> = {
  [API_ERRORS.contentExpired]: 'content-expired',
  [API_ERRORS.foreignHost]: 'foreign-host',
  INTERNAL: 'internal-error',
};

export interface BlobWorkerContext {
  deps: TenantPollerDeps;
  key: CursorKey;
  tracker: CheckpointTracker;
  log: Logger;
  /** A blob's unit committed (delivered or dead-lettered): the poller updates cursor bookkeeping. */
  onCommitted: () => void;
  /** Kafka refused a blob: the tenant is degraded until it recovers. */
  onSinkTrouble: (error: ConnectorError) => void;
  /** Sweep seam (issue 12): extra records for the blob's transaction (its digest). */
  unitRecords?: (item: ContentListing) => readonly KeyedRecord[];
  /** Sweep seam (issue 12): the blob's unit committed (delivered or dead-lettered). */
  onBlobDone?: (item: ContentListing) => void;
}

/**
 * One blob from listing to commit, for one tenant: download (spooled), publish as one delivery unit,
 * mark done in the tracker. Transient failures are retried with backoff until the blob is delivered,
 * proven permanently unreadable (dead-lettered, counted as data loss), or the poller stops (the blob
 * then stays pending, so no cursor covers it).
 */
export class BlobWorker {
  readonly #c: BlobWorkerContext;
  readonly #d: TenantPollerDeps;

  constructor(context: BlobWorkerContext) {
    this.#c = context;
    this.#d = context.deps;
  }

  /** Download, publish, mark done; retried until it is delivered or proven permanently unreadable. */
  async process(item: ContentListing, stop: AbortSignal): Promise<void> {
    const { metrics, settings, clock } = this.#d;
    const tracker = this.#c.tracker;
    const ref: BlobRef = { tenantId: this.#d.tenantId, contentId: item.contentId, contentUri: item.contentUri };
    const tenant = this.#d.tenantId;
    let spooled: SpooledBlob | undefined;
    let notFound = 0;
    metrics.inflightBlobs.inc();
    try {
      for (let attempt = 1; ; attempt += 1) {
        // Stopping: the blob stays pending, so the final cursor stays before it and the next run lists
        // it again. Releasing it would let the lower bound jump past a blob that was never delivered.
        if (stop.aborted) return;
        try {
          if (spooled === undefined) {
            const { body } = await this.#d.api.openBlob(item.contentUri, stop);
            spooled = await this.#d.spool.spool(body);
            metrics.blobBytes.inc({ tenant }, spooled.sizeBytes);
          }
          const content = spooled;
          const started = clock.now();
          const tally = await this.#d.gate.run(async () => {
            const result = await deliverBlob(ref, content.open(), {
              sink: this.#d.sink,
              normalize: this.#d.normalize,
              recentIds: this.#d.recentIds,
              batchEvents: settings.batchEvents,
              finalAttempt: attempt >= settings.malformedBlobAttempts,
              checkpoint: () => ({ key: this.#c.key, cursor: tracker.cursor(clock.now(), item.contentId), ...this.#extras(item) }),
            });
            tracker.markDone(item.contentId);
            this.#c.onBlobDone?.(item);
            return result;
          });
          metrics.sinkWaitSeconds.observe((clock.now() - started) / 1000);
          this.#count(tally, item.contentId);
          metrics.blobs.inc({ tenant, outcome: 'delivered' });
          this.#c.onCommitted();
          this.#c.log.debug({ contentId: item.contentId, bytes: content.sizeBytes, ...tally.summary() }, 'Blob delivered');
          return;
        } catch (error) {
          if (stop.aborted && !isConnectorError(error)) return;
          const mapped = toConnectorError(error);
          if (mapped.code === 'SINK_FENCED') {
            this.#d.onFatal(mapped);
            return;
          }
          if (mapped.code === API_ERRORS.contentNotFound) notFound += 1;
          if (PERMANENT_BLOB_ERRORS.has(mapped.code) || notFound >= NOT_FOUND_ATTEMPTS) {
            await this.#rejectUntilCommitted(item, ref, mapped, stop);
            return;
          }
          // A blob that failed to download or parse is fetched again; one that Kafka refused is kept.
          if (mapped.stage !== 'sink' && spooled !== undefined) {
            await spooled.release();
            spooled = undefined;
          }
          metrics.blobs.inc({ tenant, outcome: 'retried' });
          const delay = retryDelayMs(attempt, mapped.retryAfterSeconds, { maxMs: settings.maxBackoffMs, ...(this.#d.random ? { random: this.#d.random } : {}) });
          this.#c.log.warn({ contentId: item.contentId, code: mapped.code, attempt, delayMs: delay, err: mapped.message }, 'Blob failed; retrying');
          if (mapped.code !== BLOB_MALFORMED || attempt >= settings.malformedBlobAttempts) {
            if (mapped.stage === 'sink') this.#c.onSinkTrouble(mapped);
          }
          await clock.sleep(delay, stop).catch(() => undefined);
        }
      }
    } finally {
      metrics.inflightBlobs.dec();
      await spooled?.release();
    }
  }

  /** Dead-letters an unreadable blob; only Kafka trouble can delay that, so it retries until it lands or we stop. */
  async #rejectUntilCommitted(item: ContentListing, ref: BlobRef, cause: ConnectorError, stop: AbortSignal): Promise<void> {
    const { metrics, clock, settings } = this.#d;
    const tracker = this.#c.tracker;
    const tenant = this.#d.tenantId;
    const reason = BLOB_REJECT_REASONS[cause.code] ?? 'content-not-found';
    for (let attempt = 1; !stop.aborted; attempt += 1) {
      try {
        await this.#d.gate.run(async () => {
          await rejectBlob(ref, reason, cause.message, {
            sink: this.#d.sink,
            checkpoint: () => ({ key: this.#c.key, cursor: tracker.cursor(clock.now(), ref.contentId), ...this.#extras(item) }),
          });
          tracker.markDone(ref.contentId);
          this.#c.onBlobDone?.(item);
        });
        metrics.blobs.inc({ tenant, outcome: 'rejected' });
        metrics.deadLetters.inc({ tenant, reason });
        // Whatever the reason, the blob's records were not collected: that is data loss, said out loud.
        metrics.dataLoss.inc({ tenant, reason });
        this.#c.log.error({ contentId: ref.contentId, reason }, 'Content blob could not be collected; dead-lettered and counted as data loss');
        this.#c.onCommitted();
        return;
      } catch (error) {
        const delay = retryDelayMs(attempt, undefined, { maxMs: settings.maxBackoffMs });
        this.#c.log.warn({ err: error, contentId: ref.contentId, delayMs: delay }, 'Dead-lettering a blob failed; retrying');
        await clock.sleep(delay, stop).catch(() => undefined);
      }
    }
    // Stopped before the dead letter landed: left pending, so the cursor does not cover it.
  }

  #extras(item: ContentListing): { extraRecords?: readonly KeyedRecord[] } {
    const records = this.#c.unitRecords?.(item);
    return records === undefined || records.length === 0 ? {} : { extraRecords: records };
  }

  #count(tally: BlobTally, contentId: string): void {
    const { metrics } = this.#d;
    const tenant = this.#d.tenantId;
    // A JSON array cannot be read past a malformed spot: the rest of the blob went to the dead letter
    // as one piece, so an unknown number of records in it were not collected.
    const unreadable = tally.rejected.get('unparsable-json') ?? 0;
    if (unreadable > 0) {
      metrics.dataLoss.inc({ tenant, reason: 'unparsable-content' }, unreadable);
      this.#c.log.error({ contentId, published: tally.summary().published }, 'Blob stayed malformed after every attempt; what parsed was published, the unreadable rest dead-lettered and counted as data loss');
    }
    for (const [action, n] of tally.published) {
      metrics.records.inc({ tenant, outcome: 'published', reason: '' }, n);
      metrics.eventsPublished.inc({ tenant, action }, n);
    }
    for (const [reason, n] of tally.filtered) metrics.records.inc({ tenant, outcome: 'filtered', reason }, n);
    for (const [reason, n] of tally.rejected) {
      metrics.records.inc({ tenant, outcome: 'rejected', reason }, n);
      metrics.deadLetters.inc({ tenant, reason }, n);
    }
  }
}

/** Maps anything thrown below the poller to a ConnectorError; programming errors are not retriable. */
export function toConnectorError(error: unknown): ConnectorError {
  if (isConnectorError(error)) return error;
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) {
    // Programming errors are not retried as if the network had failed: surface them loudly.
    return new ConnectorError('INTERNAL', `${error.name}: ${error.message}`, { stage: 'normalize', retriable: false, cause: error });
  }
  return new ConnectorError('UNEXPECTED', error instanceof Error ? error.message : String(error), { stage: 'download', retriable: true, cause: error });
}
