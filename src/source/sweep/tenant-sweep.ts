import type { ContentListing } from '../../contracts/audit-record.ts';
import type { CursorKey } from '../../contracts/checkpoint.ts';
import type { Clock } from '../../contracts/clock.ts';
import type { DeliveredLog, SweepState } from '../../contracts/delivered-log.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { Metrics } from '../../telemetry/metrics.ts';
import { retryDelayMs } from '../../util/backoff.ts';
import type { FeedApi } from '../poller/tenant-poller.ts';
import { latenessBucket, nextSweepAtMs, sweepPhase, sweepRange, sweepWindows } from './sweep-plan.ts';

/**
 * What the live poller lends the sweep (the seam in tenant-poller.ts). The sweep never touches the
 * live tracker or cursor: a late blob is collected beside them, through the same worker, dedupe and
 * delivery unit as a live one, and is remembered in the DeliveredLog like every other blob.
 */
export interface LiveCollector {
  /** The live listing progress; undefined until the poller has loaded its cursor. */
  listedUpToMs(): number | undefined;
  /** True while the live poller has the blob pending, or still remembers it done. */
  isKnown(contentId: string): boolean;
  /**
   * Microsoft's clock minus ours as the live client last saw it. The sweep's own client may not have
   * had an answer yet (first sweep after a start), and planning by our clock alone can ask for a start
   * older than the service's 7 days (AF20055).
   */
  serverClockOffsetMs(): number;
  /**
   * Collects a blob through the normal path (download, dedupe, one unit with the tenant's cursor).
   * True once its unit committed, delivered or dead-lettered; false when `stop` came first.
   */
  collect(item: ContentListing, stop: AbortSignal): Promise<boolean>;
}

export interface SweepSettings {
  intervalMs: number;
  startupSpreadMs: number;
  /** The live poller's windowOverlap: the sweep ends where the live re-listing begins. */
  overlapMs: number;
  maxWindowMs: number;
  /** Late blobs collected at once by one tenant's sweep. */
  maxConcurrentBlobs: number;
  maxBackoffMs: number;
}

export interface TenantSweepDeps {
  tenantId: string;
  key: CursorKey;
  /** The tenant's API client on the background budget (RateBudget.background). */
  api: Pick<FeedApi, 'listContent' | 'serverClockOffsetMs'>;
  delivered: DeliveredLog;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  settings: SweepSettings;
  random?: () => number;
}

export interface SweepSummary {
  windows: number;
  listed: number;
  late: number;
  requests: number;
  /** False when stopped part-way; the state then keeps the previous completion. */
  completed: boolean;
}

/**
 * The reconciliation sweep of one (tenant, content type), issue 12: on a schedule (and soon after a
 * start that follows downtime) lists the whole range the API still keeps below the live overlap,
 * and collects every blob that is neither known to the live poller nor in the delivered digests.
 * A restart in the middle loses nothing (the sweep state is only advanced once a whole range is
 * listed and every late blob committed) and duplicates nothing (what committed is in the digests).
 */
export class TenantSweep {
  readonly #d: TenantSweepDeps;
  readonly #log: Logger;
  readonly #phase: number;

  constructor(deps: TenantSweepDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ tenant: deps.tenantId, contentType: deps.key.contentType, component: 'sweep' });
    this.#phase = sweepPhase(deps.tenantId);
  }

  /** Sweeps on schedule until `stop` aborts; never throws for a failed sweep (retried later). */
  async run(live: LiveCollector, stop: AbortSignal): Promise<void> {
    const { clock, settings } = this.#d;
    let failures = 0;
    while (!stop.aborted) {
      try {
        const state = await this.#state(live, stop);
        const at = nextSweepAtMs({ nowMs: clock.now(), lastCompletedMs: state.completedAtMs, lastStartedMs: state.startedAtMs, intervalMs: settings.intervalMs, phase: this.#phase, startupSpreadMs: settings.startupSpreadMs });
        if (at > clock.now()) await clock.sleep(at - clock.now(), stop);
        await this.sweepOnce(live, stop);
        failures = 0;
      } catch (error) {
        if (stop.aborted) break;
        failures += 1;
        this.#d.metrics.sweeps.inc({ tenant: this.#d.tenantId, outcome: 'failed' });
        const delayMs = retryDelayMs(failures, undefined, { baseMs: 60_000, maxMs: Math.max(settings.maxBackoffMs, 60_000), ...(this.#d.random ? { random: this.#d.random } : {}) });
        this.#log.warn({ err: error, delayMs }, 'Reconciliation sweep failed; trying again later');
        await clock.sleep(delayMs, stop).catch(() => undefined);
      }
    }
  }

  /** One sweep over the whole retained range now. */
  async sweepOnce(live: LiveCollector, stop: AbortSignal): Promise<SweepSummary> {
    const { clock, settings, api, metrics, tenantId, key } = this.#d;
    const state = await this.#state(live, stop);
    const startedAt = clock.now();
    const summary: SweepSummary = { windows: 0, listed: 0, late: 0, requests: 0, completed: false };
    const offset = (): number => live.serverClockOffsetMs() || (api.serverClockOffsetMs?.() ?? 0);
    const range = sweepRange({ nowMs: startedAt + offset(), fromMs: state.fromMs, liveListedUpToMs: live.listedUpToMs() ?? state.fromMs, overlapMs: settings.overlapMs });
    const view = await this.#d.delivered.open(key);
    await this.#d.delivered.saveSweepState(key, { ...state, startedAtMs: startedAt });
    const inflight = new Map<string, Promise<void>>();
    const collect = (item: ContentListing, createdMs: number): Promise<void> =>
      live.collect(item, stop).then((committed) => {
        if (!committed) return;
        summary.late += 1;
        // contentCreated is Microsoft's time: lateness by its clock too.
        const latenessMs = clock.now() + offset() - createdMs;
        const lateness = latenessBucket(latenessMs);
        metrics.lateBlobs.inc({ lateness });
        this.#log.info(
          { contentId: item.contentId, contentCreated: item.contentCreated, latenessSeconds: Math.round(latenessMs / 1000), lateness },
          'Collected a blob Microsoft listed later than the window overlap',
        );
      });
    const settled = new Set<string>();
    for (const window of range === undefined ? [] : sweepWindows(range, settings.maxWindowMs)) {
      summary.windows += 1;
      for await (const page of api.listContent(key.contentType, window, stop)) {
        summary.requests += 1;
        metrics.sweepRequests.inc({ tenant: tenantId });
        for (const item of page) {
          summary.listed += 1;
          const createdMs = parseListingTime(item.contentCreated);
          if (Number.isNaN(createdMs) || inflight.has(item.contentId) || settled.has(item.contentId)) continue;
          if (live.isKnown(item.contentId) || view.has({ contentId: item.contentId, createdMs })) continue;
          while (inflight.size >= settings.maxConcurrentBlobs) await Promise.race(inflight.values());
          const task = collect(item, createdMs).finally(() => {
            inflight.delete(item.contentId);
            settled.add(item.contentId);
          });
          inflight.set(item.contentId, task);
        }
      }
    }
    await Promise.all(inflight.values());
    if (stop.aborted) return summary;
    await this.#d.delivered.saveSweepState(key, { fromMs: state.fromMs, startedAtMs: startedAt, completedAtMs: clock.now() });
    summary.completed = true;
    metrics.sweeps.inc({ tenant: tenantId, outcome: 'completed' });
    const fields = { ...summary, from: range === undefined ? undefined : new Date(range.startMs).toISOString(), to: range === undefined ? undefined : new Date(range.endMs).toISOString(), durationMs: clock.now() - startedAt };
    if (summary.late > 0) this.#log.info(fields, 'Reconciliation sweep collected late blobs');
    else this.#log.debug(fields, 'Reconciliation sweep found nothing late');
    return summary;
  }

  /**
   * The stored state, or a new one starting at the live listing progress: blobs below it were
   * collected before the digests existed, and the sweep must not take them for late ones. A new
   * state counts as a sweep just done (there is nothing behind it yet), so a first start does not sweep.
   */
  async #state(live: LiveCollector, stop: AbortSignal): Promise<SweepState> {
    const stored = this.#d.delivered.sweepState(this.#d.key);
    if (stored !== undefined) return stored;
    let listedUpTo = live.listedUpToMs();
    while (listedUpTo === undefined) {
      await this.#d.clock.sleep(1000, stop);
      listedUpTo = live.listedUpToMs();
    }
    const state: SweepState = { fromMs: listedUpTo, completedAtMs: this.#d.clock.now() };
    await this.#d.delivered.saveSweepState(this.#d.key, state);
    // debug: 10,000 tenants start at once, and this says nothing an operator acts on.
    this.#log.debug({ from: new Date(listedUpTo).toISOString() }, 'Reconciliation sweep starts remembering delivered blobs');
    return state;
  }
}

/** contentCreated as the API writes it; a time without a zone is UTC (o365-api.md §1.7). */
export function parseListingTime(text: string): number {
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(text) ? text : `${text}Z`);
}
