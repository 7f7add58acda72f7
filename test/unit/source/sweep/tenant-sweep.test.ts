import pLimit from 'p-limit';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ContentListing } from '../../../../src/contracts/audit-record.ts';
import { cursorKeyString, type Cursor } from '../../../../src/contracts/checkpoint.ts';
import { ConnectorError } from '../../../../src/contracts/errors.ts';
import { MemoryCheckpointStore } from '../../../../src/checkpoint/memory-checkpoint-store.ts';
import type { DigestRecord } from '../../../../src/kafka/digest-record.ts';
import { RecentEventIds } from '../../../../src/pipeline/recent-event-ids.ts';
import { MemorySink, MemorySinkLog, type MemorySinkMode } from '../../../../src/sink/memory-sink.ts';
import { BlobSpool } from '../../../../src/source/blob-spool.ts';
import { API_ERRORS } from '../../../../src/source/o365/answers.ts';
import type { ListingWindow } from '../../../../src/source/o365/api-client.ts';
import { TenantPoller, type PollerSettings } from '../../../../src/source/poller/tenant-poller.ts';
import { MemoryDigestBackend } from '../../../../src/source/sweep/memory-digest-backend.ts';
import { RecordDeliveredLog } from '../../../../src/source/sweep/record-delivered-log.ts';
import { TenantSweep, type SweepSettings } from '../../../../src/source/sweep/tenant-sweep.ts';
import { silentLogger } from '../../../../src/telemetry/logger.ts';
import { createMetrics, type Metrics } from '../../../../src/telemetry/metrics.ts';
import { ByteBudget } from '../../../../src/util/byte-budget.ts';
import { RETENTION_MS } from '../../../../src/source/poller/window-planner.ts';
import { advance, ManualClock, waitFor } from '../../../support/time.ts';
import { acknowledged, blob, fakeNormalize, FakeFeed, H, KEY, MIN, NOW, rec, TENANT, TEST_POLLER_SETTINGS, type FakeBlob } from '../poller/poller-fakes.ts';

const POLLER: PollerSettings = { ...TEST_POLLER_SETTINGS, pollIntervalMs: 10 * MIN, firstRunLookbackMs: 160 * H, idleCursorSaveIntervalMs: 5 * MIN };

const SWEEP: SweepSettings = { intervalMs: 6 * H, startupSpreadMs: 0, overlapMs: POLLER.overlapMs, maxWindowMs: 24 * H, maxConcurrentBlobs: 1, maxBackoffMs: 10_000 };

/** A feed whose blobs become listable at their own time; counts what the sweep's client asks for. */
class LateFeed extends FakeFeed {
  readonly availableAt = new Map<string, number>();
  readonly sweepWindows: ListingWindow[] = [];
  sweepPages = 0;

  constructor(blobs: FakeBlob[], clock: ManualClock, late: Record<string, number>) {
    super(blobs);
    for (const [id, delayMs] of Object.entries(late)) {
      const b = blobs.find((x) => x.contentId === id);
      if (b !== undefined) this.availableAt.set(id, b.createdMs + delayMs);
    }
    this.listable = (b) => clock.now() >= (this.availableAt.get(b.contentId) ?? b.createdMs);
  }

  /** The sweep's client: the same listings, counted apart. */
  sweepApi(): { listContent: (ct: string, w: ListingWindow, s?: AbortSignal) => AsyncGenerator<ContentListing[]> } {
    const listContent = async function* (this: LateFeed, ct: string, w: ListingWindow): AsyncGenerator<ContentListing[]> {
      this.sweepWindows.push(w);
      for await (const page of FakeFeed.prototype.listContent.call(this, ct, w)) {
        this.sweepPages += 1;
        yield page;
      }
    };
    return { listContent: listContent.bind(this) };
  }
}

interface World {
  clock: ManualClock;
  feed: LateFeed;
  log: MemorySinkLog;
  cursors: Map<string, Cursor>;
  digests: DigestRecord[];
  mode: MemorySinkMode;
}

interface Run {
  sink: MemorySink;
  metrics: Metrics;
  poller: TenantPoller;
  stop: AbortController;
  running: Promise<void>;
}

function world(blobs: FakeBlob[], late: Record<string, number>, mode: MemorySinkMode = 'exactly-once'): World {
  const clock = new ManualClock(NOW);
  return { clock, feed: new LateFeed(blobs, clock, late), log: new MemorySinkLog(), cursors: new Map(), digests: [], mode };
}


async function startRun(w: World): Promise<Run> {
  const sink = new MemorySink({ mode: w.mode, log: w.log });
  await sink.start();
  // Exactly-once cursors live in the transactions: what a restart reads back from Kafka.
  for (const c of w.log.checkpoints) w.cursors.set(cursorKeyString(c.key), c.cursor);
  const store = new MemoryCheckpointStore(w.cursors);
  await store.start();
  const delivered = new RecordDeliveredLog(new MemoryDigestBackend({ records: w.digests, committed: () => w.log.keyed }), { now: () => w.clock.now(), logger: silentLogger });
  await delivered.start();
  const metrics = createMetrics(new Registry());
  const deps = { clock: w.clock, metrics, logger: silentLogger };
  const sweep = new TenantSweep({ tenantId: TENANT, key: KEY, api: w.feed.sweepApi(), delivered, settings: SWEEP, random: () => 0.5, ...deps });
  const poller = new TenantPoller({
    tenantId: TENANT,
    api: w.feed,
    sink,
    store,
    spool: new BlobSpool({ memory: new ByteBudget(1024 * 1024), maxInMemoryBytes: 64 * 1024 }),
    globalLimit: pLimit(8),
    normalize: fakeNormalize,
    recentIds: new RecentEventIds(10_000),
    settings: POLLER,
    onFatal: () => undefined,
    random: () => 0.5,
    delivered,
    sweep,
    ...deps,
  });
  const stop = new AbortController();
  return { sink, metrics, poller, stop, running: poller.run(stop.signal) };
}

async function stopRun(r: Run): Promise<void> {
  r.stop.abort(new Error('test stop'));
  await r.running;
}

async function value(r: Run, metric: keyof Metrics, labels: Record<string, string> = {}): Promise<number> {
  const m = r.metrics[metric] as { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> };
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
}

/** Moves the manual clock in steps, whenever something sleeps, until `done` holds. */
async function runUntil(w: World, done: () => Promise<boolean> | boolean, what: string, stepMs = 10 * MIN): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await waitFor(() => w.clock.sleeping > 0, { what: `something to sleep (${what})` });
    await advance(w.clock, stepMs);
  }
}

const sweepsDone = (r: Run, n: number) => async (): Promise<boolean> => (await value(r, 'sweeps', { outcome: 'completed' })) >= n;

const publishedIds = (w: World): string[] => w.log.events.map((e) => e.event.event.id);

function feedOf(): { blobs: FakeBlob[]; late: Record<string, number> } {
  const blobs = [
    blob('n-100h', NOW - 100 * H, [rec('n1'), rec('n2')]),
    blob('n-50h', NOW - 50 * H, [rec('n3')]),
    blob('n-10h', NOW - 10 * H, [rec('n4')]),
    blob('n-1h', NOW - H, [rec('n5')]),
    blob('late-6h', NOW - 5 * H, [rec('l1'), rec('l2')]),
    blob('late-24h', NOW - 22 * H, [rec('l3')]),
    blob('late-3d', NOW - 70 * H, [rec('l4'), rec('l5')]),
  ];
  return { blobs, late: { 'late-6h': 6 * H, 'late-24h': 24 * H, 'late-3d': 72 * H } };
}

describe('reconciliation sweep (issue 12)', () => {
  for (const mode of ['exactly-once', 'at-least-once'] as const) {
    it(`${mode}: collects blobs listed 6 h, 24 h and 3 days late exactly once, counted by lateness`, async () => {
      const { blobs, late } = feedOf();
      const w = world(blobs, late, mode);
      const r = await startRun(w);
      await runUntil(w, sweepsDone(r, 1), 'the first sweep');
      // The live poller could not see them: they were listed after its overlap had passed.
      for (const b of w.feed.blobs) expect(acknowledged(b, r.sink)).toBe(true);
      expect(await value(r, 'lateBlobs', { lateness: '6h-24h' })).toBe(1);
      expect(await value(r, 'lateBlobs', { lateness: '1d-3d' })).toBe(1);
      expect(await value(r, 'lateBlobs', { lateness: '3d-7d' })).toBe(1);
      expect(await value(r, 'lateBlobs')).toBe(3);
      // A second sweep finds nothing more.
      await runUntil(w, sweepsDone(r, 2), 'the second sweep');
      expect(await value(r, 'lateBlobs')).toBe(3);
      await stopRun(r);
      const ids = publishedIds(w);
      expect(ids.sort()).toEqual(['l1', 'l2', 'l3', 'l4', 'l5', 'n1', 'n2', 'n3', 'n4', 'n5']);
      for (const id of ['late-6h', 'late-24h', 'late-3d']) expect(w.feed.opened.get(id)).toBe(1);
    });
  }

  it('a late blob that expired before it could be fetched is dead-lettered and counted as data loss', async () => {
    const expired = new ConnectorError(API_ERRORS.contentExpired, 'The content has expired (AF20051)', { stage: 'download', retriable: false, httpStatus: 400 });
    const blobs = [blob('n-10h', NOW - 10 * H, [rec('n1')]), blob('late-expired', NOW - 159 * H, [rec('x1')], { script: [{ error: expired }] })];
    const w = world(blobs, { 'late-expired': 160 * H });
    const r = await startRun(w);
    await runUntil(w, sweepsDone(r, 1), 'the sweep');
    await stopRun(r);
    expect(await value(r, 'dataLoss', { reason: 'content-expired' })).toBe(1);
    expect(w.log.deadLetters.map((d) => [d.contentId, d.reason])).toEqual([['late-expired', 'content-expired']]);
    expect(publishedIds(w)).toEqual(['n1']);
  });

  it('a restart in the middle of a sweep loses nothing and publishes nothing twice', async () => {
    const { blobs, late } = feedOf();
    const w = world(blobs, late);
    const first = await startRun(w);
    await runUntil(w, async () => (await value(first, 'lateBlobs')) >= 1, 'the first late blob', 5 * MIN);
    await stopRun(first);
    const foundFirst = await value(first, 'lateBlobs');
    expect(foundFirst).toBeLessThan(3);
    expect(await value(first, 'sweeps', { outcome: 'completed' })).toBe(0);

    // The interrupted sweep is overdue, so the next start sweeps at once.
    const second = await startRun(w);
    await runUntil(w, sweepsDone(second, 1), 'the resumed sweep', 5 * MIN);
    await stopRun(second);
    expect(foundFirst + (await value(second, 'lateBlobs'))).toBe(3);
    const ids = publishedIds(w);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(['l1', 'l2', 'l3', 'l4', 'l5', 'n1', 'n2', 'n3', 'n4', 'n5']);
  });

  it('with no late blobs a sweep publishes nothing and costs only its listings', async () => {
    const { blobs } = feedOf();
    const w = world(blobs, {}, 'at-least-once');
    const r = await startRun(w);
    await runUntil(w, () => r.poller.progress().pendingBlobs === 0 && (r.poller.progress().listedUpToMs ?? 0) >= w.clock.now() - 2 * MIN, 'the live poller to catch up');
    const units = r.sink.unitsOpened;
    const opened = [...w.feed.opened.values()].reduce((a, b) => a + b, 0);
    await runUntil(w, sweepsDone(r, 1), 'the sweep');
    await stopRun(r);
    expect(r.sink.unitsOpened).toBe(units);
    expect([...w.feed.opened.values()].reduce((a, b) => a + b, 0)).toBe(opened);
    expect(await value(r, 'lateBlobs')).toBe(0);
    // 160-odd hours in 24 h windows (7 or 8, by the tenant's slot), one page per two blobs, all counted.
    expect(w.feed.sweepWindows.length).toBeGreaterThanOrEqual(7);
    const pages = w.feed.sweepWindows.reduce((n, win) => n + Math.max(1, Math.ceil(blobs.filter((b) => b.createdMs >= win.startMs && b.createdMs < win.endMs).length / 2)), 0);
    expect(w.feed.sweepPages).toBe(pages);
    expect(await value(r, 'sweepRequests')).toBe(pages);
  });

  it("plans by Microsoft's clock as the live client saw it, before its own client had any answer (no AF20055)", async () => {
    const clock = new ManualClock(NOW);
    const windows: ListingWindow[] = [];
    const api = {
      async *listContent(_ct: string, w: ListingWindow): AsyncGenerator<ContentListing[]> {
        windows.push(w);
        await Promise.resolve();
        yield [];
      },
      serverClockOffsetMs: () => 0,
    };
    const delivered = new RecordDeliveredLog(new MemoryDigestBackend(), { now: () => clock.now(), logger: silentLogger });
    await delivered.start();
    await delivered.saveSweepState(KEY, { fromMs: NOW - 30 * 24 * H, completedAtMs: NOW - H });
    const metrics = createMetrics(new Registry());
    const sweep = new TenantSweep({ tenantId: TENANT, key: KEY, api, delivered, settings: SWEEP, clock, metrics, logger: silentLogger });
    const ahead = 2 * H;
    const live = { listedUpToMs: () => NOW + ahead, isKnown: () => false, serverClockOffsetMs: () => ahead, collect: () => Promise.resolve(false) };
    const summary = await sweep.sweepOnce(live, new AbortController().signal);
    expect(summary.completed).toBe(true);
    expect(windows[0]?.startMs).toBeGreaterThan(NOW + ahead - RETENTION_MS);
    expect(windows.at(-1)?.endMs).toBe(NOW + ahead - SWEEP.overlapMs);
  });
});
