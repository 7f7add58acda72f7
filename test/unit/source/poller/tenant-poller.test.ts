import pLimit from 'p-limit';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Cursor } from '../../../../src/contracts/checkpoint.ts';
import { ConnectorError } from '../../../../src/contracts/errors.ts';
import { RecentEventIds } from '../../../../src/pipeline/recent-event-ids.ts';
import { MemorySink, MemorySinkLog, type MemorySinkMode } from '../../../../src/sink/memory-sink.ts';
import { BlobSpool } from '../../../../src/source/blob-spool.ts';
import { API_ERRORS } from '../../../../src/source/o365/answers.ts';
import { TenantPoller, type PollerSettings } from '../../../../src/source/poller/tenant-poller.ts';
import { createLogger, silentLogger } from '../../../../src/telemetry/logger.ts';
import { createMetrics, type Metrics } from '../../../../src/telemetry/metrics.ts';
import { ByteBudget } from '../../../../src/util/byte-budget.ts';
import { ManualClock, waitFor, advance } from '../../../support/time.ts';
import {
  acknowledged,
  AuditedStore,
  blob,
  covers,
  CursorAudit,
  fakeNormalize,
  FakeFeed,
  H,
  KEY,
  MIN,
  NOW,
  rec,
  RecordingSink,
  serverError,
  TENANT,
  TEST_POLLER_SETTINGS,
  type FakeBlob,
} from './poller-fakes.ts';

const SETTINGS = TEST_POLLER_SETTINGS;

interface Harness {
  clock: ManualClock;
  feed: FakeFeed;
  sink: RecordingSink;
  memorySink: MemorySink;
  store: AuditedStore;
  audit: CursorAudit;
  metrics: Metrics;
  poller: TenantPoller;
  stop: AbortController;
  running: Promise<void>;
  fatal: ConnectorError[];
}

interface HarnessOptions {
  mode?: MemorySinkMode;
  settings?: Partial<PollerSettings>;
  clock?: ManualClock;
  backing?: Map<string, Cursor>;
  log?: MemorySinkLog;
  /** Hold every send until the test calls sink.unblock() (Kafka not acknowledging). */
  blockSends?: boolean;
  /** Every dead letter fails with this error (the dead-letter topic is unavailable). */
  failDeadLetters?: Error;
  verifyAccess?: () => Promise<void>;
}

async function startPoller(feed: FakeFeed, options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? new ManualClock(NOW);
  const memorySink = new MemorySink({ mode: options.mode ?? 'at-least-once', ...(options.log === undefined ? {} : { log: options.log }) });
  await memorySink.start();
  const audit = new CursorAudit(feed, memorySink);
  const sink = new RecordingSink(memorySink, audit);
  if (options.blockSends === true) sink.block();
  sink.failDeadLetters = options.failDeadLetters;
  const store = new AuditedStore(audit, () => clock.now(), options.backing);
  await store.start();
  const metrics = createMetrics(new Registry(), { perTenantDetail: true });
  const fatal: ConnectorError[] = [];
  const poller = new TenantPoller({
    tenantId: TENANT,
    api: feed,
    sink,
    store,
    spool: new BlobSpool({ memory: new ByteBudget(1024 * 1024), maxInMemoryBytes: 64 * 1024 }),
    globalLimit: pLimit(8),
    normalize: fakeNormalize,
    recentIds: new RecentEventIds(10_000),
    clock,
    metrics,
    logger: process.env.GC_DEBUG ? createLogger({ level: "debug" }) : silentLogger,
    settings: { ...SETTINGS, ...options.settings },
    onFatal: (error) => fatal.push(error),
    random: () => 0.5,
    ...(options.verifyAccess === undefined ? {} : { verifyAccess: options.verifyAccess }),
  });
  const stop = new AbortController();
  const running = poller.run(stop.signal);
  return { clock, feed, sink, memorySink, store, audit, metrics, poller, stop, running, fatal };
}

/** Lets time pass on the manual clock (in `stepMs` steps, whenever the poller sleeps) until `condition` holds. */
async function runUntil(h: Harness, condition: () => boolean, what: string, stepMs = 5_000): Promise<void> {
  const deadline = Date.now() + 8_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(h.poller.progress())} now=${h.clock.now()} acked=${h.feed.blobs.filter((b) => !acknowledged(b, h.memorySink)).map((b) => b.contentId).join()}`);
    await waitFor(() => condition() || h.clock.sleeping > 0, { what });
    if (!condition()) await advance(h.clock, stepMs);
  }
}

async function stopPoller(h: Harness): Promise<void> {
  h.stop.abort(new Error('test stop'));
  await h.running;
}

const caughtUp = (h: Harness): boolean => {
  const { listedUpToMs, pendingBlobs } = h.poller.progress();
  return pendingBlobs === 0 && listedUpToMs !== undefined && listedUpToMs >= h.clock.now() - SETTINGS.endLagMs - 1_000;
};

const publishedIds = (h: Harness): string[] => h.memorySink.log.events.map((e) => e.event.event.id);
const allAcked = (h: Harness): boolean => h.feed.blobs.every((b) => acknowledged(b, h.memorySink));
const lastSaved = (h: Harness): Cursor | undefined => h.store.load(KEY);

async function counter(metric: { get(): Promise<{ values: Array<{ value: number; labels: object }> }> }, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** A three-day backlog, so the first run lists several 24-hour windows. */
function backlog(): FakeBlob[] {
  return [
    blob('b-71h', NOW - 71 * H, [rec('r1'), rec('r2')]),
    blob('b-60h', NOW - 60 * H, [rec('r3'), rec('r4'), rec('r5')]),
    blob('b-49h', NOW - 49 * H, [rec('r6')]),
    blob('b-30h', NOW - 30 * H, [rec('r7'), rec('f1', 'FolderCreated'), rec('r8')]),
    blob('b-20h', NOW - 20 * H, [rec('r9')]),
    blob('b-5h', NOW - 5 * H, [rec('r10'), rec('r11')]),
    blob('b-10m', NOW - 10 * MIN, [rec('r12')]),
    blob('b-3m', NOW - 3 * MIN, [rec('r13'), rec('r14')]),
  ];
}

const expectedIds = (blobs: FakeBlob[]): string[] =>
  blobs
    .flatMap((b) => b.records)
    .filter((r) => r.Operation !== 'FolderCreated')
    .map((r) => r.Id)
    .sort();

describe('TenantPoller: backlog (invariants 1 and 2)', () => {
  it('publishes every blob of a multi-window backlog exactly once and ends the cursor at the listing progress', async () => {
    const feed = new FakeFeed(backlog());
    const h = await startPoller(feed);

    await runUntil(h, () => caughtUp(h) && allAcked(h), 'the backlog to be delivered');
    await stopPoller(h);

    expect(publishedIds(h).sort()).toEqual(expectedIds(feed.blobs));
    expect(new Set(publishedIds(h)).size).toBe(publishedIds(h).length);
    // Several windows, none longer than 24 h, each overlapping the previous one.
    expect(feed.windows.length).toBeGreaterThanOrEqual(4);
    for (const w of feed.windows) expect(w.endMs - w.startMs).toBeLessThanOrEqual(24 * H);
    for (const b of feed.blobs) expect(feed.opened.get(b.contentId)).toBe(1);
    const cursor = lastSaved(h)!;
    expect(cursor.lowerBound).toBe(new Date(h.poller.progress().listedUpToMs!).toISOString());
    // The blobs inside the overlap are remembered as done, so the next run skips them.
    expect(Object.keys(cursor.done).sort()).toEqual(['b-10m', 'b-3m']);
    expect(h.audit.violations).toEqual([]);
    expect(await counter(h.metrics.records, { outcome: 'published' })).toBe(14);
    expect(await counter(h.metrics.records, { outcome: 'filtered', reason: 'folder-operation' })).toBe(1);
    expect(await counter(h.metrics.blobs, { outcome: 'delivered' })).toBe(8);
    expect(h.poller.status.status).toBe('stopped');
  });

  it('retries a blob failing transiently and never commits past it while it is pending', async () => {
    const blobs = backlog();
    const flaky = blobs.find((b) => b.contentId === 'b-30h')!;
    const slow = (): { error: ConnectorError } => ({
      error: new ConnectorError(API_ERRORS.serverError, 'Service unavailable (HTTP 503)', { stage: 'download', retriable: true, httpStatus: 503, retryAfterSeconds: 120 }),
    });
    flaky.script.push(slow(), serverError());
    const feed = new FakeFeed(blobs);
    const h = await startPoller(feed);

    await runUntil(h, () => caughtUp(h) && allAcked(h), 'the backlog to be delivered');
    await stopPoller(h);

    expect(feed.opened.get('b-30h')).toBe(3);
    expect(publishedIds(h).sort()).toEqual(expectedIds(blobs));
    // Cursors were saved while the flaky blob was pending, and each stopped right at it.
    const whilePending = h.audit.saved.filter(({ cursor }) => !covers(cursor, flaky));
    expect(whilePending.length).toBeGreaterThan(0);
    for (const { cursor } of whilePending) expect(Date.parse(cursor.lowerBound)).toBeLessThanOrEqual(flaky.createdMs);
    expect(whilePending.some(({ cursor }) => Date.parse(cursor.lowerBound) === flaky.createdMs)).toBe(true);
    expect(h.audit.violations).toEqual([]);
    expect(await counter(h.metrics.blobs, { outcome: 'retried' })).toBe(2);
    expect(covers(lastSaved(h)!, flaky)).toBe(true);
  });
});

describe('TenantPoller: unreadable blobs are dead-lettered and committed past (invariant 2)', () => {
  it('dead-letters an expired blob as content-expired and counts it as data loss', async () => {
    const blobs = [
      blob('old', NOW - 40 * H, [rec('x1')], {
        script: [{ error: new ConnectorError(API_ERRORS.contentExpired, 'The content blob has expired (HTTP 400, AF20051)', { stage: 'download', retriable: false, httpStatus: 400 }) }],
      }),
      blob('fine', NOW - 30 * H, [rec('y1')]),
    ];
    const feed = new FakeFeed(blobs);
    const h = await startPoller(feed);

    await runUntil(h, () => caughtUp(h) && allAcked(h), 'both blobs to be done');
    await stopPoller(h);

    expect(feed.opened.get('old')).toBe(1);
    expect(h.memorySink.log.deadLetters).toEqual([expect.objectContaining({ reason: 'content-expired', contentId: 'old', tenantId: TENANT, payload: null })]);
    expect(publishedIds(h)).toEqual(['y1']);
    expect(await counter(h.metrics.dataLoss, { tenant: TENANT, reason: 'content-expired' })).toBe(1);
    expect(await counter(h.metrics.deadLetters, { reason: 'content-expired' })).toBe(1);
    expect(covers(lastSaved(h)!, blobs[0]!)).toBe(true);
    expect(h.audit.violations).toEqual([]);
  });

  it('dead-letters a blob whose contentUri points at a foreign host as foreign-host', async () => {
    const blobs = [blob('evil', NOW - 20 * H, [rec('e1')], { contentUri: `https://evil.example.test/api/v1.0/${TENANT}/activity/feed/audit/evil` }), blob('fine', NOW - 10 * H, [rec('y1')])];
    const feed = new FakeFeed(blobs);
    const h = await startPoller(feed);

    await runUntil(h, () => caughtUp(h) && allAcked(h), 'both blobs to be done');
    await stopPoller(h);

    expect(h.memorySink.log.deadLetters).toEqual([expect.objectContaining({ reason: 'foreign-host', contentId: 'evil', stage: 'download' })]);
    expect(publishedIds(h)).toEqual(['y1']);
    expect(await counter(h.metrics.deadLetters, { reason: 'foreign-host' })).toBe(1);
    expect(covers(lastSaved(h)!, blobs[0]!)).toBe(true);
  });

  it('retries a malformed blob, then publishes what parsed and dead-letters the rest', async () => {
    const broken = '[{"Id":"m1","Operation":"FileDownloaded"},{"Id":"m2","Operation":"FileUploaded"},{"Id":"m3","Oper';
    const blobs = [
      blob('torn', NOW - 20 * H, [rec('m1'), rec('m2', 'FileUploaded')], { script: [{ body: broken }, { body: broken }, { body: broken }] }),
      blob('fine', NOW - 10 * H, [rec('y1')]),
    ];
    const feed = new FakeFeed(blobs);
    const h = await startPoller(feed, { mode: 'exactly-once' });

    await runUntil(h, () => caughtUp(h) && allAcked(h) && h.memorySink.log.deadLetters.length > 0, 'the torn blob to be settled');
    await stopPoller(h);

    expect(feed.opened.get('torn')).toBe(3);
    expect(publishedIds(h).sort()).toEqual(['m1', 'm2', 'y1']);
    expect(h.memorySink.log.deadLetters).toEqual([expect.objectContaining({ reason: 'unparsable-json', contentId: 'torn', stage: 'parse' })]);
    expect(await counter(h.metrics.records, { outcome: 'rejected', reason: 'unparsable-json' })).toBe(1);
    expect(await counter(h.metrics.blobs, { outcome: 'retried' })).toBe(2);
    expect(h.audit.violations).toEqual([]);
  });
});

describe('TenantPoller: duplicates and exactly-once (invariant 1)', () => {
  it('publishes a record repeated in two blobs once and counts the repeat as a duplicate', async () => {
    const blobs = [blob('first', NOW - 20 * H, [rec('same'), rec('a1')]), blob('second', NOW - 10 * H, [rec('same'), rec('b1'), rec('b1')])];
    const feed = new FakeFeed(blobs);
    const h = await startPoller(feed);

    await runUntil(h, () => caughtUp(h) && allAcked(h), 'both blobs to be delivered');
    await stopPoller(h);

    expect(publishedIds(h).sort()).toEqual(['a1', 'b1', 'same']);
    expect(await counter(h.metrics.records, { outcome: 'filtered', reason: 'duplicate' })).toBe(2);
  });

  it('commits every blob in a group whose cursor already includes it', async () => {
    const blobs = backlog();
    const feed = new FakeFeed(blobs);
    const h = await startPoller(feed, { mode: 'exactly-once' });

    await runUntil(h, () => caughtUp(h) && allAcked(h), 'the backlog to be delivered');
    await stopPoller(h);

    const units = h.sink.committed.filter((u) => u.eventIds.length > 0);
    expect(units.length).toBe(blobs.length);
    for (const unit of units) {
      const carried = blobs.filter((b) => b.records.some((r) => unit.eventIds.includes(r.Id)));
      expect(carried).toHaveLength(1);
      expect(unit.contentId).toBe(carried[0]!.contentId);
      expect(unit.groupCursors.some((cursor) => covers(cursor, carried[0]!))).toBe(true);
    }
    // Every blob's commit carried its checkpoint; no cursor covered a blob not yet committed.
    expect(h.sink.committed.every((u) => u.contentId !== undefined)).toBe(true);
    expect(h.audit.violations).toEqual([]);
    expect(publishedIds(h).sort()).toEqual(expectedIds(blobs));
    // Exactly-once mode keeps cursors in the transactions, not in the store.
    expect(h.store.load(KEY)).toBeUndefined();
    const last = h.memorySink.log.checkpoints.at(-1)!.cursor;
    expect(last.lowerBound).toBe(new Date(h.poller.progress().listedUpToMs!).toISOString());
  });
});

describe('TenantPoller: first-run lookback under repeated kills', () => {
  it('never lists before the first run\'s bound, however often it is killed with blobs in flight', async () => {
    const floor = NOW - SETTINGS.firstRunLookbackMs;
    // `before` lies inside the window overlap before the first run's bound: once listed, a pending
    // blob there would pull the saved cursor below the bound, and each restart would list an
    // overlap further back (DESIGN: first-run lookback, issue 7).
    const blobs = [blob('before', floor - 10 * MIN, [rec('x0')]), blob('after-1h', floor + H, [rec('x1')]), blob('after-30h', floor + 30 * H, [rec('x2')])];
    const feed = new FakeFeed(blobs);
    const backing = new Map<string, Cursor>();
    const clock = new ManualClock(NOW);
    const killed: Harness[] = [];
    for (let run = 0; run < 4; run += 1) {
      // Kafka never acknowledges, so every listed blob stays in flight; the run is then abandoned
      // without a stop (SIGKILL): only the cursors it saved on the way survive.
      const h = await startPoller(feed, { backing, clock, blockSends: true });
      killed.push(h);
      await waitFor(() => h.sink.sendCalls >= 2 && h.clock.sleeping > 0, { what: `run ${run} to list everything with blobs in flight` });
      await new Promise((resolve) => setTimeout(resolve, 20));
      await advance(clock, MIN);
    }
    for (const h of killed) {
      h.sink.unblock();
      await stopPoller(h);
    }

    expect(feed.windows.length).toBeGreaterThan(0);
    for (const w of feed.windows) expect(w.startMs).toBeGreaterThanOrEqual(floor - 1000);
    expect(feed.opened.get('before')).toBeUndefined();
    const saved = killed.flatMap((h) => h.audit.saved.map((s) => s.cursor));
    expect(saved.length).toBeGreaterThan(0);
    for (const cursor of saved) {
      expect(Date.parse(cursor.lowerBound)).toBeGreaterThanOrEqual(floor - 1000);
      expect(cursor.notBefore).toBe(new Date(floor).toISOString());
    }
  });
});

describe('TenantPoller: idle tenants', () => {
  it('lists an idle tenant every idlePollIntervalMs after 3 empty listings, and every pollIntervalMs again once one finds a blob', async () => {
    const feed = new FakeFeed([]);
    const h = await startPoller(feed, { settings: { idlePollIntervalMs: 5 * MIN, firstRunLookbackMs: 2 * H } });
    await waitFor(() => h.clock.sleeping > 0 && feed.windows.length === 1, { what: 'the first listing' });
    // Two more empty listings a poll interval apart make three: the tenant is idle.
    for (const expected of [2, 3]) {
      await advance(h.clock, MIN);
      await waitFor(() => feed.windows.length === expected && h.clock.sleeping > 0, { what: `listing ${expected}` });
    }
    await advance(h.clock, 4 * MIN);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(feed.windows).toHaveLength(3);
    // A blob arrives; the idle interval ends with a listing that finds it.
    feed.blobs.push(blob('late', h.clock.now() - 3 * MIN, [rec('l1')]));
    await advance(h.clock, MIN);
    await waitFor(() => feed.windows.length === 4 && publishedIds(h).includes('l1') && h.clock.sleeping > 0, { what: 'the listing after the idle interval' });
    await advance(h.clock, MIN);
    await waitFor(() => feed.windows.length === 5, { what: 'a listing one poll interval later' });
    await stopPoller(h);
  });
});

describe('TenantPoller: restart and shutdown (invariant 6)', () => {
  it('re-lists the overlap after a restart but publishes nothing twice', async () => {
    const blobs = backlog();
    const feed = new FakeFeed(blobs);
    const backing = new Map<string, Cursor>();
    const log = new MemorySinkLog();
    const clock = new ManualClock(NOW);
    const first = await startPoller(feed, { backing, log, clock });
    await runUntil(first, () => caughtUp(first) && allAcked(first), 'the first run to catch up');
    await stopPoller(first);
    const saved = backing.get(`${TENANT}|Audit.SharePoint`)!;
    const publishedBefore = log.events.length;
    const openedBefore = new Map(feed.opened);
    const windowsBefore = feed.windows.length;

    await advance(clock, 2 * MIN);
    const second = await startPoller(feed, { backing, log, clock });
    await runUntil(second, () => feed.windows.length > windowsBefore && caughtUp(second), 'the second run to list');
    await stopPoller(second);

    const resumedWindow = feed.windows[windowsBefore]!;
    expect(resumedWindow.startMs).toBe(Date.parse(saved.lowerBound) - SETTINGS.overlapMs);
    // The overlap holds blobs of the first run; they are known from the cursor and skipped.
    expect(blobs.some((b) => b.createdMs >= resumedWindow.startMs && b.createdMs < resumedWindow.endMs)).toBe(true);
    expect(log.events.length).toBe(publishedBefore);
    expect(feed.opened).toEqual(openedBefore);
    expect(second.audit.violations).toEqual([]);
  });

  it('on stop, finishes the delivery in progress, saves the final cursor and never covers what was not delivered', async () => {
    const blobs = backlog();
    const feed = new FakeFeed(blobs);
    const h = await startPoller(feed, { settings: { blobConcurrency: 1 }, blockSends: true });

    await runUntil(h, () => h.sink.sendCalls > 0, 'the first delivery to reach Kafka');
    h.stop.abort(new Error('SIGTERM'));
    h.sink.unblock();
    await h.running;

    expect(h.poller.status.status).toBe('stopped');
    const first = blobs[0]!;
    expect(acknowledged(first, h.memorySink)).toBe(true);
    const final = lastSaved(h)!;
    const current = h.poller.currentCursor()!;
    expect({ lowerBound: final.lowerBound, done: final.done }).toEqual({ lowerBound: current.lowerBound, done: current.done });
    expect(covers(final, first)).toBe(true);
    // Nothing left undelivered is covered by the final cursor: a restart lists it again.
    for (const b of blobs) if (!acknowledged(b, h.memorySink)) expect(covers(final, b)).toBe(false);
    expect(blobs.some((b) => !acknowledged(b, h.memorySink))).toBe(true);
    expect(h.audit.violations).toEqual([]);
  });

  it('on stop, does not cover a blob whose dead letter has not landed', async () => {
    const expired = blob('old', NOW - 40 * H, [rec('x1')], {
      script: [{ error: new ConnectorError(API_ERRORS.contentExpired, 'expired (AF20051)', { stage: 'download', retriable: false }) }],
    });
    const feed = new FakeFeed([expired, blob('fine', NOW - 30 * H, [rec('y1')])]);
    const h = await startPoller(feed, { failDeadLetters: new ConnectorError('SINK_UNAVAILABLE', 'dead-letter topic unavailable', { stage: 'sink', retriable: true }) });

    const listedToPresent = (): boolean => (h.poller.progress().listedUpToMs ?? 0) >= h.clock.now() - SETTINGS.endLagMs - 1_000;
    await runUntil(h, () => h.sink.deadLetterCalls >= 2 && publishedIds(h).includes('y1') && listedToPresent(), 'dead-letter retries');
    await stopPoller(h);

    const final = lastSaved(h)!;
    expect(covers(final, expired)).toBe(false);
    expect(Date.parse(final.lowerBound)).toBe(expired.createdMs);
    expect(h.audit.violations).toEqual([]);
  });
});

describe('TenantPoller: status and backpressure (invariants 3 and 5)', () => {
  it('reports audit-disabled with the action to take, keeps running and stops cleanly', async () => {
    const feed = new FakeFeed(backlog());
    feed.subscriptionError = new ConnectorError(API_ERRORS.auditDisabled, 'Audit log search is off for this tenant (HTTP 400)', { stage: 'subscription', retriable: false, httpStatus: 400 });
    const h = await startPoller(feed);

    await runUntil(h, () => h.poller.status.status === 'audit-disabled', 'the audit-disabled status');

    expect(h.poller.status.action).toMatch(/turn on audit log search/i);
    expect(h.poller.status.errorCode).toBe(API_ERRORS.auditDisabled);
    expect(await counter(h.metrics.tenantStatus, { tenant: TENANT, status: 'audit-disabled' })).toBe(1);
    expect(feed.windows).toEqual([]);
    // Once the admin turns auditing on, collection resumes by itself.
    feed.subscriptionError = undefined;
    await runUntil(h, () => caughtUp(h) && allAcked(h), 'collection to resume', 30_000);
    expect(h.poller.status.status).toBe('healthy');
    await stopPoller(h);
    await expect(h.running).resolves.toBeUndefined();
  });

  it('verifies access before any API call and after every failure: a missing role is permission-missing with nothing listed, and collection starts once it is granted', async () => {
    const feed = new FakeFeed(backlog());
    let roleMissing = true;
    let verifications = 0;
    const verifyAccess = (): Promise<void> => {
      verifications += 1;
      return roleMissing ? Promise.reject(new ConnectorError('AUTH_ROLE_MISSING', 'no ActivityFeed.Read role', { stage: 'auth', retriable: false })) : Promise.resolve();
    };
    const h = await startPoller(feed, { verifyAccess });

    await runUntil(h, () => h.poller.status.status === 'permission-missing' && verifications >= 2, 'two failed verifications', 60_000);
    expect(h.poller.status.errorCode).toBe('AUTH_ROLE_MISSING');
    expect(feed.windows).toEqual([]);
    roleMissing = false;
    await runUntil(h, () => caughtUp(h) && allAcked(h), 'collection after the role was granted', 60_000);
    expect(h.poller.status.status).toBe('healthy');
    expect(publishedIds(h).sort()).toEqual(expectedIds(feed.blobs));
    // Verified once more after each failure, not before every poll.
    const afterHealthy = verifications;
    const windowsSoFar = feed.windows.length;
    await runUntil(h, () => feed.windows.length > windowsSoFar, 'another listing', 60_000);
    expect(verifications).toBe(afterHealthy);
    await stopPoller(h);
  });

  it('stops listing at maxInflightBlobs while Kafka does not acknowledge, and resumes when it does', async () => {
    const blobs = Array.from({ length: 30 }, (_v, i) => blob(`blob-${String(i).padStart(2, '0')}`, NOW - 60 * H + i * H, [rec(`e${i}`)]));
    const feed = new FakeFeed(blobs, 2);
    const h = await startPoller(feed, { settings: { maxInflightBlobs: 5 }, blockSends: true });

    await runUntil(h, () => h.poller.progress().pendingBlobs === 5, 'the in-flight cap');
    const pages = feed.pagesServed;
    const windows = feed.windows.length;
    const opened = [...feed.opened.values()].reduce((a, b) => a + b, 0);
    // Let plenty of time pass: the listing must not move while Kafka holds the deliveries.
    for (let i = 0; i < 20; i += 1) await advance(h.clock, MIN);
    await waitFor(() => true);

    expect(feed.pagesServed).toBe(pages);
    expect(feed.windows.length).toBe(windows);
    expect(h.poller.progress().pendingBlobs).toBe(5);
    expect([...feed.opened.values()].reduce((a, b) => a + b, 0)).toBe(opened);
    expect(opened).toBeLessThanOrEqual(5);
    expect(h.memorySink.log.events).toEqual([]);

    h.sink.unblock();
    await runUntil(h, () => caughtUp(h) && allAcked(h), 'the backlog after Kafka recovers');
    await stopPoller(h);
    expect(publishedIds(h).sort()).toEqual(expectedIds(blobs));
    expect(h.audit.violations).toEqual([]);
  });
});
