import fc from 'fast-check';
import pLimit from 'p-limit';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../../../../src/checkpoint/memory-checkpoint-store.ts';
import { ConnectorError } from '../../../../src/contracts/errors.ts';
import { BLOB_MALFORMED } from '../../../../src/pipeline/deliver-blob.ts';
import { RecentEventIds } from '../../../../src/pipeline/recent-event-ids.ts';
import { MemorySink } from '../../../../src/sink/memory-sink.ts';
import { BlobSpool, SPOOL_UNAVAILABLE } from '../../../../src/source/blob-spool.ts';
import { API_ERRORS } from '../../../../src/source/o365/answers.ts';
import { BlobFailureHistory, classifyBlobFailure, DEFAULT_BLOB_FAILURE_LIMITS } from '../../../../src/source/poller/blob-failure.ts';
import { TenantPoller } from '../../../../src/source/poller/tenant-poller.ts';
import { silentLogger } from '../../../../src/telemetry/logger.ts';
import { createMetrics } from '../../../../src/telemetry/metrics.ts';
import { ByteBudget } from '../../../../src/util/byte-budget.ts';
import { ManualClock, advance, waitFor } from '../../../support/time.ts';
import { acknowledged, blob, covers, fakeNormalize, FakeFeed, rec, TENANT, type BlobAnswer } from './poller-fakes.ts';

const err = (code: string, options: { stage?: ConnectorError['stage']; retriable?: boolean; httpStatus?: number } = {}): ConnectorError =>
  new ConnectorError(code, `${code} for the test`, { stage: options.stage ?? 'download', retriable: options.retriable ?? false, httpStatus: options.httpStatus });

describe('classifyBlobFailure: which failures end a blob, and when', () => {
  it.each([
    [API_ERRORS.contentExpired, 'content-expired'],
    [API_ERRORS.foreignHost, 'foreign-host'],
    [API_ERRORS.redirected, 'redirected'],
    ['INTERNAL', 'internal-error'],
  ])('rejects %s at the first sight as %s', (code, reason) => {
    expect(classifyBlobFailure(err(code), 1)).toEqual({ action: 'reject', reason });
  });

  it('rejects "not found" only after notFoundAttempts, any other 4xx after permanentAttempts', () => {
    const { notFoundAttempts, permanentAttempts } = DEFAULT_BLOB_FAILURE_LIMITS;
    expect(classifyBlobFailure(err(API_ERRORS.contentNotFound), notFoundAttempts - 1)).toEqual({ action: 'retry' });
    expect(classifyBlobFailure(err(API_ERRORS.contentNotFound), notFoundAttempts)).toEqual({ action: 'reject', reason: 'content-not-found' });
    expect(classifyBlobFailure(err(API_ERRORS.badRequest, { httpStatus: 409 }), permanentAttempts - 1)).toEqual({ action: 'retry' });
    expect(classifyBlobFailure(err(API_ERRORS.badRequest, { httpStatus: 409 }), permanentAttempts)).toEqual({ action: 'reject', reason: 'request-refused' });
    expect(classifyBlobFailure(err('SOMETHING_NEW'), permanentAttempts)).toEqual({ action: 'reject', reason: 'permanent-error' });
  });

  it.each([
    [API_ERRORS.serverError, { retriable: true }],
    [API_ERRORS.transport, { retriable: true }],
    [API_ERRORS.throttled, { retriable: true }],
    [API_ERRORS.unauthorized, { retriable: true }],
    [API_ERRORS.permissionMissing, {}],
    [API_ERRORS.auditDisabled, {}],
    ['AUTH_BAD_ANSWER', { stage: 'auth' as const }],
    [SPOOL_UNAVAILABLE, { retriable: true }],
    [BLOB_MALFORMED, { stage: 'parse' as const, retriable: true }],
    ['SINK_TIMEOUT', { stage: 'sink' as const }],
  ])('keeps %s retrying however often it happens (it can heal, or is not the blob\'s fault)', (code, options) => {
    expect(classifyBlobFailure(err(code, options), 1_000)).toEqual({ action: 'retry' });
  });

  it('stops the poller on a fenced sink', () => {
    expect(classifyBlobFailure(err('SINK_FENCED', { stage: 'sink' }), 1)).toEqual({ action: 'fatal' });
  });

  it('counts each code on its own: a flaky 500 between two 404s does not reset or use up the 404 bound', () => {
    const history = new BlobFailureHistory();
    const limits = { notFoundAttempts: 2, permanentAttempts: 2 };
    expect(history.judge(err(API_ERRORS.contentNotFound), limits)).toEqual({ action: 'retry' });
    expect(history.judge(err(API_ERRORS.serverError, { retriable: true }), limits)).toEqual({ action: 'retry' });
    expect(history.judge(err(API_ERRORS.contentNotFound), limits)).toEqual({ action: 'reject', reason: 'content-not-found' });
  });
});

/**
 * The simulator's fault kinds as the poller sees them (what the API client turns each answer into).
 * Transient ones come a few times and stop, as the simulator's counted faults do; permanent ones
 * stay until the blob ends.
 */
const TRANSIENT: Record<string, () => BlobAnswer> = {
  'server-error': () => ({ error: err(API_ERRORS.serverError, { retriable: true, httpStatus: 500 }) }),
  reset: () => ({ error: err(API_ERRORS.transport, { retriable: true }) }),
  throttle: () => ({ error: err(API_ERRORS.throttled, { retriable: true, httpStatus: 429 }) }),
  'token-refused': () => ({ error: err(API_ERRORS.unauthorized, { retriable: true, httpStatus: 401 }) }),
  'spool-full': () => ({ error: err(SPOOL_UNAVAILABLE, { retriable: true }) }),
  truncated: () => ({ body: '[{"Id":"cut-' }),
};
const PERMANENT: Record<string, () => BlobAnswer> = {
  expired: () => ({ error: err(API_ERRORS.contentExpired, { httpStatus: 400 }) }),
  'foreign-host': () => ({ error: err(API_ERRORS.foreignHost) }),
  'encoded-slash': () => ({ error: err(API_ERRORS.foreignHost) }),
  'redirect-301': () => ({ error: err(API_ERRORS.redirected, { httpStatus: 301 }) }),
  'redirect-307': () => ({ error: err(API_ERRORS.redirected, { httpStatus: 307 }) }),
  'not-found': () => ({ error: err(API_ERRORS.contentNotFound, { httpStatus: 404 }) }),
  'bad-request': () => ({ error: err(API_ERRORS.badRequest, { httpStatus: 409 }) }),
  'always-malformed': () => ({ body: '[{"Id":"x",}' }),
};
const MALFORMED_ATTEMPTS = 3;
/** The most attempts any one permanent condition may take before the blob ends. */
const PERMANENT_BOUND = Math.max(DEFAULT_BLOB_FAILURE_LIMITS.notFoundAttempts, DEFAULT_BLOB_FAILURE_LIMITS.permanentAttempts, MALFORMED_ATTEMPTS);

const blobPlan = fc.record({
  transient: fc.array(fc.constantFrom(...Object.keys(TRANSIENT)), { maxLength: 4 }),
  permanent: fc.option(fc.constantFrom(...Object.keys(PERMANENT)), { nil: undefined }),
});

describe('property: every blob ends delivered or rejected within a bounded number of attempts', () => {
  it('over the simulator fault kinds, no blob holds the cursor forever', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(blobPlan, { minLength: 1, maxLength: 6 }), async (plans) => {
        const now = Date.parse('2026-11-20T12:00:00Z');
        const blobs = plans.map((plan, i) => {
          const script = plan.transient.map((kind) => TRANSIENT[kind]!());
          // A permanent condition stays: more answers than any bound would allow.
          if (plan.permanent !== undefined) for (let n = 0; n < PERMANENT_BOUND + 2; n += 1) script.push(PERMANENT[plan.permanent]!());
          return blob(`b${i}`, now - (10 + i) * 60_000, [rec(`r${i}-1`), rec(`r${i}-2`)], { script });
        });
        const feed = new FakeFeed(blobs);
        const clock = new ManualClock(now);
        const sink = new MemorySink({ mode: 'at-least-once' });
        await sink.start();
        const store = new MemoryCheckpointStore();
        await store.start();
        const poller = new TenantPoller({
          tenantId: TENANT,
          api: feed,
          sink,
          store,
          spool: new BlobSpool({ memory: new ByteBudget(1024 * 1024), maxInMemoryBytes: 64 * 1024 }),
          globalLimit: pLimit(8),
          normalize: fakeNormalize,
          recentIds: new RecentEventIds(1000),
          clock,
          metrics: createMetrics(new Registry()),
          logger: silentLogger,
          settings: {
            pollIntervalMs: 60_000,
            firstRunLookbackMs: 3600_000,
            overlapMs: 60_000,
            endLagMs: 0,
            maxWindowMs: 24 * 3600_000,
            blobConcurrency: 3,
            maxInflightBlobs: 16,
            batchEvents: 10,
            malformedBlobAttempts: MALFORMED_ATTEMPTS,
            maxBackoffMs: 5_000,
            idleCursorSaveIntervalMs: 0,
          },
          onFatal: () => undefined,
          random: () => 0.5,
        });
        const stop = new AbortController();
        const running = poller.run(stop.signal);
        const ended = (): boolean => poller.progress().pendingBlobs === 0 && blobs.every((b) => (feed.opened.get(b.contentId) ?? 0) > 0);
        const deadline = Date.now() + 10_000;
        while (!ended()) {
          if (Date.now() > deadline) throw new Error(`blobs still pending: ${JSON.stringify(blobs.map((b) => [b.contentId, feed.opened.get(b.contentId)]))}`);
          await waitFor(() => ended() || clock.sleeping > 0);
          if (!ended()) await advance(clock, 5_000);
        }
        stop.abort(new Error('test stop'));
        await running;

        const cursor = store.load({ tenantId: TENANT, contentType: 'Audit.SharePoint' });
        expect(cursor).toBeDefined();
        for (const [i, b] of blobs.entries()) {
          const plan = plans[i]!;
          const letters = sink.log.deadLetters.filter((d) => d.contentId === b.contentId);
          // Ended: delivered (its records published, perhaps with a dead letter for an unreadable rest) or rejected whole.
          expect(acknowledged(b, sink) || letters.length > 0).toBe(true);
          expect(covers(cursor!, b)).toBe(true);
          // Bounded: the transient answers, then at most PERMANENT_BOUND attempts of the permanent one.
          expect(feed.opened.get(b.contentId) ?? 0).toBeLessThanOrEqual(plan.transient.length + PERMANENT_BOUND + 1);
          if (plan.permanent === undefined) expect(letters.filter((d) => d.stage === 'download')).toEqual([]);
          else expect(letters.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
