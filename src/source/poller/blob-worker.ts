import type { ContentListing } from '../../contracts/audit-record.ts';
import type { CursorKey } from '../../contracts/checkpoint.ts';
import { ConnectorError, isConnectorError } from '../../contracts/errors.ts';
import type { TenantCursor } from '../../checkpoint/tenant-cursor.ts';
import type { CheckpointTracker } from '../../checkpoint/tracker.ts';
import { BLOB_MALFORMED, deliverBlob, rejectBlob, type BlobRef } from '../../pipeline/deliver-blob.ts';
import type { BlobTally } from '../../pipeline/tally.ts';

/** Runs one step of a blob's handling under the tenant's and the process's concurrency limits. */
export type Slot = <T>(step: () => Promise<T>) => Promise<T>;
const noop = (): void => undefined;

/** One blob across its attempts. */
interface BlobState {
  item: ContentListing;
  ref: BlobRef;
  spooled: SpooledBlob | undefined;
  /** Failed attempts by error code: each permanent condition has its own bound (blob-failure.ts). */
  failures: BlobFailureHistory;
  attempt: number;
}
import type { Logger } from '../../telemetry/logger.ts';
import { retryDelayMs } from '../../util/backoff.ts';
import { SPOOL_UNAVAILABLE, type SpooledBlob } from '../blob-spool.ts';
import { BlobFailureHistory } from './blob-failure.ts';
import type { TenantPollerDeps } from './tenant-poller.ts';

export interface BlobWorkerContext {
  deps: TenantPollerDeps;
  key: CursorKey;
  tracker: CheckpointTracker;
  /** The tenant's cursor as the sink sees it; commits report blob progress to it. */
  cursor: TenantCursor;
  log: Logger;
  /** A blob's unit committed (delivered or dead-lettered): the poller updates cursor bookkeeping. */
  onCommitted: () => void;
  /** Kafka refused a blob: the tenant is degraded until it recovers. */
  onSinkTrouble: (error: ConnectorError) => void;
  /** Sweep seam (issue 12): the blob's unit committed (delivered or dead-lettered). */
  onBlobDone?: (blob: BlobRef) => void;
  /** The spool directory could not be written: the tenant shows it until the spool works again. */
  onSpoolTrouble?: (error: ConnectorError) => void;
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

  /**
   * Download, publish, mark done; retried until it is delivered or proven permanently unreadable.
   * `slot` runs under the concurrency limits: downloads, parsing and their retries hold a slot;
   * waiting for the group commit does not (the tracker's in-flight cap still bounds the blob).
   */
  async process(item: ContentListing, stop: AbortSignal, slot: Slot = (step) => step(), listedAtMs = this.#d.clock.now()): Promise<void> {
    const { metrics, clock } = this.#d;
    const ref: BlobRef = { tenantId: this.#d.tenantId, contentId: item.contentId, contentUri: item.contentUri, contentCreated: item.contentCreated };
    const blob: BlobState = { item, ref, spooled: undefined, failures: new BlobFailureHistory(), attempt: 0 };
    metrics.inflightBlobs.inc();
    try {
      for (;;) {
        const joined = await slot(() => this.#untilJoined(blob, stop));
        if (joined === undefined) return;
        try {
          const tally = await joined.delivery;
          metrics.sinkWaitSeconds.observe((clock.now() - joined.startedMs) / 1000);
          metrics.blobs.inc({ tenant: this.#d.tenantId, outcome: 'delivered' });
          this.#c.onBlobDone?.(blob.ref);
          this.#c.onCommitted();
          metrics.blobListedToCommittedSeconds.observe((clock.now() - listedAtMs) / 1000);
          this.#c.log.debug({ contentId: item.contentId, bytes: blob.spooled?.sizeBytes, ...tally.summary() }, 'Blob delivered');
          return;
        } catch (error) {
          if (!(await this.#failed(blob, error, stop))) return;
        }
      }
    } finally {
      metrics.inflightBlobs.dec();
      await blob.spooled?.release();
    }
  }

  /** Attempts until the blob's output joined a group (undefined: finished otherwise, or stopping). */
  async #untilJoined(blob: BlobState, stop: AbortSignal): Promise<{ delivery: Promise<BlobTally>; startedMs: number } | undefined> {
    const { metrics, clock } = this.#d;
    for (;;) {
      // Stopping: the blob stays pending, so the final cursor stays before it and the next run lists
      // it again. Releasing it would let the lower bound jump past a blob that was never delivered.
      if (stop.aborted) return undefined;
      blob.attempt += 1;
      try {
        if (blob.spooled === undefined) {
          const { body } = await this.#d.api.openBlob(blob.item.contentUri, stop);
          blob.spooled = await this.#d.spool.spool(body);
          metrics.blobBytes.inc({ tenant: this.#d.tenantId }, blob.spooled.sizeBytes);
        }
        let onJoined = noop;
        const joined = new Promise<void>((resolve) => (onJoined = resolve));
        const startedMs = clock.now();
        const delivery = this.#deliver(blob.ref, blob.spooled, blob.attempt, () => onJoined());
        // The slot is free once the blob's output waits for its group; a failure before that is
        // retried here, holding the slot, as a failed download is.
        await Promise.race([delivery.then(noop), joined]);
        return { delivery, startedMs };
      } catch (error) {
        if (!(await this.#failed(blob, error, stop))) return undefined;
      }
    }
  }

  /** A failed attempt: true to try again (after the backoff), false when the blob is settled or we stop. */
  async #failed(blob: BlobState, error: unknown, stop: AbortSignal): Promise<boolean> {
    const { metrics, settings, clock } = this.#d;
    const tenant = this.#d.tenantId;
    if (stop.aborted && !isConnectorError(error)) return false;
    const mapped = toConnectorError(error);
    // Which failures end the blob, and when: blob-failure.ts.
    const verdict = blob.failures.judge(mapped);
    if (verdict.action === 'fatal') {
      this.#d.onFatal(mapped);
      return false;
    }
    if (verdict.action === 'reject') {
      await this.#rejectUntilCommitted(blob.ref, mapped, verdict.reason, stop);
      return false;
    }
    if (mapped.code === SPOOL_UNAVAILABLE) this.#c.onSpoolTrouble?.(mapped);
    // A blob that failed to download or parse is fetched again; one that Kafka refused is kept.
    if (mapped.stage !== 'sink' && blob.spooled !== undefined) {
      await blob.spooled.release();
      blob.spooled = undefined;
    }
    metrics.blobs.inc({ tenant, outcome: 'retried' });
    const delay = retryDelayMs(blob.attempt, mapped.retryAfterSeconds, { maxMs: settings.maxBackoffMs, ...(this.#d.random ? { random: this.#d.random } : {}) });
    this.#c.log.warn({ contentId: blob.item.contentId, code: mapped.code, attempt: blob.attempt, delayMs: delay, err: mapped.message }, 'Blob failed; retrying');
    if (mapped.code !== BLOB_MALFORMED || blob.attempt >= settings.malformedBlobAttempts) {
      if (mapped.stage === 'sink') this.#c.onSinkTrouble(mapped);
    }
    await clock.sleep(delay, stop).catch(() => undefined);
    return true;
  }

  /** The tracker learns of each durable slice from the sink (TenantCursor.committed) before this resolves; a retry resumes after the last. */
  #deliver(ref: BlobRef, content: SpooledBlob, attempt: number, onSubmitted: () => void): Promise<BlobTally> {
    const { settings } = this.#d;
    return deliverBlob(ref, content.open(), {
      sink: this.#d.sink,
      normalize: this.#d.normalize,
      recentIds: this.#d.recentIds,
      batchEvents: settings.batchEvents,
      finalAttempt: attempt >= settings.malformedBlobAttempts,
      cursor: this.#c.cursor,
      startAt: this.#c.tracker.position(ref.contentId),
      onDurable: (durable) => this.#count(durable, ref.contentId),
      onSubmitted,
      sideRecords: this.#d.sideRecords,
    });
  }

  /** Dead-letters an unreadable blob; only Kafka trouble can delay that, so it retries until it lands or we stop. */
  async #rejectUntilCommitted(ref: BlobRef, cause: ConnectorError, reason: string, stop: AbortSignal): Promise<void> {
    const { metrics, clock, settings } = this.#d;
    const tenant = this.#d.tenantId;
    for (let attempt = 1; !stop.aborted; attempt += 1) {
      try {
        await rejectBlob(ref, reason, cause.message, { sink: this.#d.sink, cursor: this.#c.cursor, sideRecords: this.#d.sideRecords });
        metrics.blobs.inc({ tenant, outcome: 'rejected' });
        metrics.deadLetters.inc({ tenant, reason });
        // Whatever the reason, the blob's records were not collected: that is data loss, said out loud.
        metrics.dataLoss.inc({ tenant, reason });
        this.#c.log.error({ contentId: ref.contentId, reason, code: cause.code, err: cause.message }, 'Content blob could not be collected; dead-lettered and counted as data loss');
        this.#c.onBlobDone?.(ref);
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
