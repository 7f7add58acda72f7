import pLimit, { type LimitFunction } from 'p-limit';
import { AUDIT_SHAREPOINT, type ContentListing } from '../../contracts/audit-record.ts';
import type { CheckpointStore, Cursor, CursorKey } from '../../contracts/checkpoint.ts';
import type { Clock } from '../../contracts/clock.ts';
import type { DeliveredBlob, DeliveredLog } from '../../contracts/delivered-log.ts';
import type { ConnectorError } from '../../contracts/errors.ts';
import type { NormalizeResult } from '../../contracts/file-event.ts';
import type { Sink } from '../../contracts/sink.ts';
import type { PollerConditions } from '../../lifecycle/connection.ts';
import { TenantCursor } from '../../checkpoint/tenant-cursor.ts';
import { CheckpointTracker } from '../../checkpoint/tracker.ts';
import type { BlobRef, SideRecordHooks } from '../../pipeline/deliver-blob.ts';
import type { RecentEventIds } from '../../pipeline/recent-event-ids.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { Metrics } from '../../telemetry/metrics.ts';
import { retryDelayMs } from '../../util/backoff.ts';
import { CoalescingTask } from '../../util/coalescing-task.ts';
import type { BlobSpool } from '../blob-spool.ts';
import { API_ERRORS } from '../o365/answers.ts';
import type { ListingWindow } from '../o365/api-client.ts';
import { parseListingTime, type LiveCollector, type TenantSweep } from '../sweep/tenant-sweep.ts';
import { BlobWorker, toConnectorError, type BlobWorkerContext } from './blob-worker.ts';
import { WAITING_FOR_A_HUMAN, WaitingLogPolicy } from './waiting-log.ts';
import { planWindow } from './window-planner.ts';
import { describeStatus, statusForError, TENANT_STATUSES, type TenantStatus, type TenantStatusName } from './tenant-status.ts';

/** Listings in a row that found nothing new before a tenant counts as idle (see idlePollIntervalMs). */
const IDLE_POLLS = 3;

/** The slice of the API client a poller uses (a fake in unit tests). */
export interface FeedApi {
  listSubscriptions(signal?: AbortSignal): Promise<Array<{ contentType: string; status: string | undefined }>>;
  startSubscription(contentType: string, signal?: AbortSignal): Promise<'started' | 'already-enabled'>;
  listContent(contentType: string, window: ListingWindow, signal?: AbortSignal): AsyncGenerator<ContentListing[]>;
  openBlob(contentUri: string, signal?: AbortSignal): Promise<{ body: AsyncIterable<Uint8Array> }>;
  /** Microsoft's clock minus ours, when known (see ManagementApiClient). */
  serverClockOffsetMs?(): number;
}

export interface PollerSettings {
  pollIntervalMs: number;
  firstRunLookbackMs: number;
  overlapMs: number;
  endLagMs: number;
  maxWindowMs: number;
  blobConcurrency: number;
  maxInflightBlobs: number;
  batchEvents: number;
  malformedBlobAttempts: number;
  maxBackoffMs: number;
  /** A cursor moved only by listing progress is saved at most this often (see TenantCursor). */
  idleCursorSaveIntervalMs: number;
  /** Wait this long before the first poll: many tenants start spread out instead of all at once. */
  startDelayMs?: number;
  /**
   * After IDLE_POLLS listings in a row found nothing new, poll this often instead of pollIntervalMs
   * (back to pollIntervalMs as soon as one finds a blob). Absent: always pollIntervalMs.
   */
  idlePollIntervalMs?: number;
}

export interface TenantPollerDeps {
  tenantId: string;
  contentType?: string;
  api: FeedApi;
  sink: Sink;
  store: CheckpointStore;
  spool: BlobSpool;
  /** Shared by every tenant: caps blobs in flight process-wide. */
  globalLimit: LimitFunction;
  /**
   * Shared by every tenant: caps subscription checks (a tenant's first calls: token, list, start) in
   * progress at once, so thousands of tenants starting together queue here, not in the HTTP pool.
   * Listing and downloads never wait for it, so a tenant with a backlog cannot hold others back.
   */
  startGate?: LimitFunction | undefined;
  /** Records for side topics that commit with a blob (drives, digests); optional. */
  sideRecords?: SideRecordHooks | undefined;
  normalize: (record: unknown) => NormalizeResult;
  recentIds: RecentEventIds;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  settings: PollerSettings;
  /** Called when the poller cannot go on at all (the sink was fenced by a newer owner of the shard). */
  onFatal: (error: ConnectorError) => void;
  random?: () => number;
  // lifecycle seam: the poller reports what it sees; the connection state machine (src/lifecycle) decides what it means.
  conditions?: PollerConditions;
  /**
   * lifecycle seam: verification (token acquired, its roles hold ActivityFeed.Read) before the first
   * listing and again after every failure, so a failed verification is a poll failure like any other:
   * same status, same backoff, same quiet reminders while it waits for an admin.
   */
  verifyAccess?: (stop: AbortSignal) => Promise<void>;
  /** lifecycle seam: where to start instead of the store's cursor (a restart in this process, a resume, a legacy import); undefined: the store's. */
  initialCursor?: () => Cursor | undefined;
  /** Sweep seam (issue 12): remembers every blob done, for the reconciliation sweep. */
  delivered?: DeliveredLog;
  /** Sweep seam (issue 12): runs beside the live loop, collecting what was listed too late for it. */
  sweep?: TenantSweep;
}

/**
 * Collects one tenant's content type: keeps the subscription on, lists windows, downloads blobs
 * concurrently and publishes them, and commits the acknowledged prefix as the cursor. Stops taking
 * new work when `stop` aborts; blobs already downloading are dropped (listed again next run) and
 * blobs being delivered finish.
 */
export class TenantPoller {
  readonly #d: TenantPollerDeps;
  readonly #key: CursorKey;
  readonly #log: Logger;
  /** The tenant's blob concurrency; made with the first blob (an idle tenant of 10,000 never needs one). */
  #blobLimit: LimitFunction | undefined;
  readonly #inflight = new Set<Promise<void>>();
  #tracker: CheckpointTracker | undefined;
  #worker: BlobWorker | undefined;
  #cursorTask: CoalescingTask | undefined;
  #cursor: TenantCursor | undefined;
  /** Stopping: the final cursor is written at once, not at the end of a group interval. */
  #draining = false;
  #status: TenantStatus;
  #subscribed = false;
  #verified = false;
  readonly #waitingLog = new WaitingLogPolicy();
  /** Content entries the last listing returned, known ones included (Initializing ends at the first). */
  #listedItems = 0;

  constructor(deps: TenantPollerDeps) {
    this.#d = deps;
    this.#key = { tenantId: deps.tenantId, contentType: deps.contentType ?? AUDIT_SHAREPOINT };
    this.#log = deps.logger.child({ tenant: deps.tenantId, contentType: this.#key.contentType });
    this.#status = describeStatus('starting', new Date(deps.clock.now()));
    this.#publishStatus();
  }

  get status(): TenantStatus {
    return this.#status;
  }

  /** Listing progress and blobs in flight, for progress displays and "caught up" checks. */
  progress(): { listedUpToMs: number | undefined; pendingBlobs: number } {
    return { listedUpToMs: this.#tracker?.listedUpToMs, pendingBlobs: this.#tracker?.pendingCount ?? 0 };
  }

  /** The cursor as committed or about to be; undefined before run() loaded it. */
  currentCursor(): Cursor | undefined {
    return this.#tracker?.cursor(this.#d.clock.now());
  }

  /** Runs until `stop` aborts, then drains in-flight deliveries and saves the final cursor. */
  async run(stop: AbortSignal): Promise<void> {
    const { clock, settings } = this.#d;
    // lifecycle seam: the supervisor's cursor (a restart in this process, a resume, a legacy import) before the store's.
    const stored = this.#d.initialCursor?.() ?? this.#d.store.load(this.#key);
    const firstBound = new Date(clock.now() - settings.firstRunLookbackMs).toISOString();
    // The first run's bound is kept in the cursor as a floor: however often the process is killed
    // while the first backlog is collected, listing never reaches further back than asked for.
    const initial = stored ?? { lowerBound: firstBound, done: {}, notBefore: firstBound, updatedAt: new Date(clock.now()).toISOString() };
    const tracker = new CheckpointTracker(initial, { maxInFlight: settings.maxInflightBlobs, overlapMs: settings.overlapMs });
    this.#tracker = tracker;
    const cursor = new TenantCursor({ key: this.#key, tracker, now: () => clock.now(), idleSaveIntervalMs: settings.idleCursorSaveIntervalMs, initial });
    this.#cursor = cursor;
    this.#worker = new BlobWorker(this.#workerContext(tracker, cursor, () => this.#afterCommit()));
    this.#cursorTask = new CoalescingTask(() => this.#saveCursor(), (error) => this.#log.warn({ err: error }, 'Saving the cursor failed; it will be saved with the next progress'));
    // Exported from the start, so a tenant that never commits (stuck in an error) still shows its lag.
    this.#d.metrics.cursorLag.set({ tenant: this.#d.tenantId }, (clock.now() - tracker.lowerBoundMs()) / 1000);
    this.#d.metrics.tenantLastSuccess.set({ tenant: this.#d.tenantId }, clock.now() / 1000);
    this.#log.info({ lowerBound: initial.lowerBound, resumed: stored !== undefined }, 'Tenant poller started');
    if (settings.startDelayMs !== undefined && settings.startDelayMs > 0) await clock.sleep(settings.startDelayMs, stop).catch(() => undefined);
    const sweeping = this.#startSweep(initial.done, stop);
    let failures = 0;
    let emptyPolls = 0;
    while (!stop.aborted) {
      try {
        const { caughtUp, listed, askedTheApi } = await this.#pollOnce(stop);
        emptyPolls = listed > 0 ? 0 : emptyPolls + 1;
        failures = 0;
        // Only an answer from the API says the tenant works again: a pass with nothing to list (caught
        // up) proves nothing, while a blob download may just have failed with audit logging off.
        if (askedTheApi) {
          this.#d.conditions?.listed(this.#listedItems); // lifecycle seam
          // A spool failure is cleared by the spool working again, not by a listing that worked.
          const spoolStill = this.#status.status === 'spool-unavailable' && this.#d.spool.problem() !== undefined;
          if (this.#status.status !== 'healthy' && !spoolStill) this.#setStatus('healthy');
        }
        if (caughtUp) await clock.sleep(this.#pollIntervalMs(emptyPolls), stop);
      } catch (error) {
        if (stop.aborted) break;
        failures += 1;
        const mapped = toConnectorError(error);
        this.#verified = false;
        this.#d.conditions?.failed(mapped); // lifecycle seam
        if (mapped.code === API_ERRORS.subscriptionMissing || mapped.code === API_ERRORS.subscriptionDisabled) this.#subscribed = false;
        this.#setStatus(statusForError(mapped), mapped);
        const delay = retryDelayMs(failures, mapped.retryAfterSeconds, {
          baseMs: mapped.retriable ? 1000 : 30_000,
          maxMs: settings.maxBackoffMs,
          ...(this.#d.random ? { random: this.#d.random } : {}),
        });
        this.#logPollFailure(mapped, delay);
        await clock.sleep(delay, stop).catch(() => undefined);
      }
    }
    await sweeping;
    await this.#drain();
    this.#setStatus('stopped');
  }

  // ── Sweep seam (issue 12) ──────────────────────────────────────────────────────────────────
  // Everything the reconciliation sweep needs from the poller: the worker context (digest side
  // record and "blob done" hook), starting the sweep, and the LiveCollector it works through.

  #workerContext(tracker: CheckpointTracker, cursor: TenantCursor, onCommitted: () => void): BlobWorkerContext {
    const delivered = this.#d.delivered;
    const context: BlobWorkerContext = {
      deps: this.#d,
      key: this.#key,
      tracker,
      cursor,
      log: this.#log,
      onCommitted,
      onSinkTrouble: (error) => this.#setStatus('degraded', error),
      onSpoolTrouble: (error) => this.#setStatus('spool-unavailable', error),
    };
    if (delivered === undefined) return context;
    const blobOf = (ref: BlobRef): DeliveredBlob => ({ contentId: ref.contentId, createdMs: parseListingTime(ref.contentCreated ?? '') });
    const side = this.#d.sideRecords;
    // The blob's digest record joins its unit (same transaction; at-least-once: same acknowledged batch).
    const sideRecords: SideRecordHooks = {
      ...(side?.forEvents === undefined ? {} : { forEvents: (tenantId, events) => side.forEvents?.(tenantId, events) ?? [] }),
      forBlobDone: (ref) => [...(side?.forBlobDone?.(ref) ?? []), ...(ref.contentCreated === undefined ? [] : delivered.unitRecords(this.#key, blobOf(ref)))],
    };
    return { ...context, deps: { ...this.#d, sideRecords }, onBlobDone: (ref) => ref.contentCreated !== undefined && delivered.delivered(this.#key, blobOf(ref), true) };
  }

  /** Starts the sweep beside the live loop; resolves when it has stopped. */
  async #startSweep(initialDone: Record<string, string>, stop: AbortSignal): Promise<void> {
    const { delivered, sweep } = this.#d;
    if (delivered === undefined || sweep === undefined) return;
    // The first run with a sweep: blobs done by an earlier run are only in the cursor, so they go
    // into the digests now, before the tracker forgets them.
    if (delivered.sweepState(this.#key) === undefined) {
      for (const [contentId, created] of Object.entries(initialDone)) delivered.delivered(this.#key, { contentId, createdMs: Date.parse(created) }, false);
    }
    await sweep.run(this.#liveCollector(), stop);
  }

  #liveCollector(): LiveCollector {
    return {
      listedUpToMs: () => this.#tracker?.listedUpToMs,
      isKnown: (contentId) => this.#tracker?.isKnown(contentId) ?? false,
      serverClockOffsetMs: () => this.#d.api.serverClockOffsetMs?.() ?? 0,
      collect: (item, stop) => {
        let committed = false;
        const tracker = this.#requireTracker();
        const cursor = this.#cursor;
        if (cursor === undefined) throw new Error('TenantPoller used before run()');
        // A worker of its own only to learn that this blob committed; the path is the live one. The
        // blob is not in the tracker, so the cursor written with it is the live one, unchanged.
        const worker = new BlobWorker(
          this.#workerContext(tracker, cursor, () => {
            committed = true;
            this.#afterCommit();
          }),
        );
        const task = worker.process(item, stop, (step) => this.#slot(step));
        const tracked = task.catch((error: unknown) => this.#log.error({ err: error, contentId: item.contentId }, 'Blob handling failed unexpectedly'));
        this.#inflight.add(tracked);
        void tracked.finally(() => this.#inflight.delete(tracked));
        return tracked.then(() => committed);
      },
    };
  }
  // ── end of the sweep seam ───────────────────────────────────────────────────────────────────

  /** Lists one window and schedules its blobs. True when the listing has reached the present. */
  /** An idle tenant (nothing new for a few polls) costs one listing per idle interval, not per poll. */
  #pollIntervalMs(emptyPolls: number): number {
    const { pollIntervalMs, idlePollIntervalMs } = this.#d.settings;
    return emptyPolls >= IDLE_POLLS && idlePollIntervalMs !== undefined ? Math.max(pollIntervalMs, idlePollIntervalMs) : pollIntervalMs;
  }

  async #pollOnce(stop: AbortSignal): Promise<{ caughtUp: boolean; listed: number; askedTheApi: boolean }> {
    const { clock, settings, api } = this.#d;
    const tracker = this.#requireTracker();
    this.#listedItems = 0;
    if (!this.#verified) {
      await this.#d.verifyAccess?.(stop);
      this.#verified = true;
    }
    if (!this.#subscribed) {
      const gate = this.#d.startGate;
      await (gate === undefined ? this.#ensureSubscribed(stop) : gate(() => this.#ensureSubscribed(stop)));
    }
    // The service judges the 7-day rule by its own clock; "caught up" is judged by the same clock,
    // or a Microsoft clock a fraction of a second behind ours made every poll list twice.
    const serverNowMs = clock.now() + (api.serverClockOffsetMs?.() ?? 0);
    const window = planWindow({
      listedUpToMs: tracker.listedUpToMs,
      ...(tracker.notBeforeMs === undefined ? {} : { floorMs: tracker.notBeforeMs }),

      nowMs: serverNowMs,
      overlapMs: settings.overlapMs,
      endLagMs: settings.endLagMs,
      maxWindowMs: settings.maxWindowMs,
    });
    if (window === undefined) return { caughtUp: true, listed: 0, askedTheApi: false };
    if (window.expiredGap !== undefined) {
      this.#d.metrics.dataLoss.inc({ tenant: this.#d.tenantId, reason: 'window-expired' });
      this.#log.error(
        { from: new Date(window.expiredGap.fromMs).toISOString(), to: new Date(window.expiredGap.toMs).toISOString() },
        'Content in this range is older than the 7 days the API keeps and can no longer be collected',
      );
    }
    let listed = 0;
    for await (const page of api.listContent(this.#key.contentType, window, stop)) {
      this.#listedItems += page.length;
      for (const item of page) {
        if (tracker.isKnown(item.contentId)) continue;
        const createdMs = Date.parse(item.contentCreated);
        await tracker.track({ contentId: item.contentId, createdMs: Number.isNaN(createdMs) ? window.startMs : createdMs }, stop);
        listed += 1;
        this.#spawn(item, stop);
      }
    }
    tracker.markListedUpTo(window.endMs);
    this.#log.debug({ start: new Date(window.startMs).toISOString(), end: new Date(window.endMs).toISOString(), newBlobs: listed }, 'Window listed');
    this.#cursorTask?.request();
    return { caughtUp: window.endMs >= serverNowMs - settings.endLagMs - 1000, listed, askedTheApi: true };
  }

  async #ensureSubscribed(stop: AbortSignal): Promise<void> {
    if (this.#subscribed) return;
    const subscriptions = await this.#d.api.listSubscriptions(stop);
    const current = subscriptions.find((s) => s.contentType.toLowerCase() === this.#key.contentType.toLowerCase());
    if (current?.status !== 'enabled') {
      const result = await this.#d.api.startSubscription(this.#key.contentType, stop);
      this.#log.info({ result }, 'Subscription started');
    }
    this.#subscribed = true;
    this.#d.conditions?.subscribed(); // lifecycle seam
  }

  #slot<T>(step: () => Promise<T>): Promise<T> {
    this.#blobLimit ??= pLimit(this.#d.settings.blobConcurrency);
    return this.#blobLimit(() => this.#d.globalLimit(step));
  }

  #spawn(item: ContentListing, stop: AbortSignal): void {
    const worker = this.#requireWorker();
    const listedAtMs = this.#d.clock.now();
    const task = worker.process(item, stop, (step) => this.#slot(step), listedAtMs);
    const tracked = task.catch((error: unknown) => this.#log.error({ err: error, contentId: item.contentId }, 'Blob handling failed unexpectedly'));
    this.#inflight.add(tracked);
    void tracked.finally(() => this.#inflight.delete(tracked));
  }

  /** Exactly-once mode committed the cursor with the blob; at-least-once mode saves it now. */
  #afterCommit(): void {
    const tracker = this.#requireTracker();
    this.#d.metrics.checkpointCommits.inc({ tenant: this.#d.tenantId });
    this.#d.metrics.tenantLastSuccess.set({ tenant: this.#d.tenantId }, this.#d.clock.now() / 1000);
    this.#d.metrics.cursorLag.set({ tenant: this.#d.tenantId }, (this.#d.clock.now() - tracker.lowerBoundMs()) / 1000);
    if (!this.#d.sink.transactional) this.#cursorTask?.request();
  }

  /**
   * Saves the cursor if it is worth it (see TenantCursor): exactly-once in the shard's next group,
   * at-least-once through the store once the blobs it covers are acknowledged.
   */
  async #saveCursor(): Promise<void> {
    const tracker = this.#requireTracker();
    const cursor = this.#cursor;
    const { clock, sink } = this.#d;
    if (cursor === undefined) return;
    if (sink.transactional) {
      if (!cursor.wouldSave()) return;
      await sink.saveCursor(cursor, { promptly: this.#draining });
    } else {
      const toSave = cursor.toSave();
      if (toSave === undefined) return;
      await this.#d.store.save(this.#key, toSave);
      cursor.written(toSave);
    }
    this.#d.metrics.cursorLag.set({ tenant: this.#d.tenantId }, (clock.now() - tracker.lowerBoundMs()) / 1000);
  }

  async #drain(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
    // Blob progress not yet in a cursor is saved now. A move of the listing alone is not: it is at
    // most idleCursorSaveIntervalSeconds old, inside the overlap the next run re-lists anyway.
    this.#draining = true;
    this.#cursorTask?.request();
    await this.#cursorTask?.flush();
  }

  #setStatus(status: TenantStatusName, error?: ConnectorError): void {
    const previous = this.#status.status;
    this.#status = describeStatus(status, new Date(this.#d.clock.now()), error?.code);
    this.#publishStatus();
    if (previous !== status) {
      const fields = { status, previous, action: this.#status.action, code: error?.code };
      if (status === 'healthy' || status === 'stopped' || status === 'starting') this.#log.info(fields, 'Tenant status changed');
      else this.#log.warn(fields, 'Tenant status changed');
    }
  }

  /** Loud for trouble that may heal; for a tenant waiting for an admin, reminders at a growing gap (waiting-log.ts). */
  #logPollFailure(error: ConnectorError, delayMs: number): void {
    const fields = { code: error.code, status: this.#status.status, delayMs };
    if (this.#waitingLog.level(this.#status.status, this.#d.clock.now()) === 'debug') {
      this.#log.debug({ ...fields, err: error.message }, 'Polling failed; backing off');
    } else if (WAITING_FOR_A_HUMAN.has(this.#status.status)) {
      this.#log.debug({ ...fields, err: error.message }, 'Polling failed; backing off');
      this.#log.warn({ ...fields, action: this.#status.action }, 'Tenant still waiting for an admin; see its status for what to do');
    } else {
      this.#log.warn({ ...fields, err: error.message }, 'Polling failed; backing off');
    }
  }

  #publishStatus(): void {
    for (const name of TENANT_STATUSES) this.#d.metrics.tenantStatus.set({ tenant: this.#d.tenantId, status: name }, name === this.#status.status ? 1 : 0);
  }

  #requireWorker(): BlobWorker {
    if (this.#worker === undefined) throw new Error('TenantPoller used before run()');
    return this.#worker;
  }

  #requireTracker(): CheckpointTracker {
    if (this.#tracker === undefined) throw new Error('TenantPoller used before run()');
    return this.#tracker;
  }
}
