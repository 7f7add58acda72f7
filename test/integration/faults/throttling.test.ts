import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/contracts/clock.ts';
import type { Connector } from '../../../src/runtime/connector.ts';
import type { RequestRecord, TenantOptions } from '../../../src/simulator/index.ts';
import { requireBroker } from '../../support/kafka.ts';
import { deadLetters, expectComplete, frozenClock, laggingClock, lastListingAt, SMALL_TENANT, startFaultRun, total, waitTenantCaughtUp, type FaultRun } from '../../support/fault-matrix.ts';
import { waitFor } from '../../support/time.ts';

const ACTIVITY = new Set(['subscriptions-start', 'subscriptions-list', 'subscriptions-content', 'blob']);

/** The activity-API requests of a tenant (token requests are never throttled). */
function activity(run: FaultRun, tenantId: string): RequestRecord[] {
  return run.sim.stats.requests.filter((r) => r.tenantId === tenantId && ACTIVITY.has(r.endpoint));
}

/**
 * Fault matrix row 1 (AF429 in its three shapes and a low quota) and invariant 5 (a throttled or
 * faulty tenant next to a healthy one does not hold the healthy one back).
 */
describe('fault matrix: throttling', () => {
  let runs: FaultRun[] = [];
  let connectors: Connector[] = [];
  beforeEach(requireBroker);
  afterEach(async () => {
    for (const c of connectors) await c.stop();
    for (const r of runs) await r.harness.close();
    connectors = [];
    runs = [];
  });

  async function start(run: FaultRun, overrides = {}): Promise<Connector> {
    const connector = await run.harness.startConnector(overrides);
    connectors.push(connector);
    return connector;
  }

  it('row 1: 429 with Retry-After — the connector waits at least that long before the retry, then completes', async () => {
    // The simulator's clock runs here: request timestamps in sim.stats measure the wait.
    const run = await startFaultRun({ seed: 'faults-429-retry-after', clock: systemClock, simulator: { throttleStyle: '429-retry-after' } });
    runs.push(run);
    const [id = ''] = run.ids;
    const connector = await start(run);
    await waitFor(() => run.sim.stats.count({ tenantId: id, endpoint: 'blob', status: 200 }) >= 1, { timeoutMs: 60_000, what: 'a first blob' });
    run.sim.faults.set(id, { throttle: { count: 3, retryAfterSeconds: 2 } });
    await waitFor(() => run.sim.faults.get(id).throttle?.count === 0, { timeoutMs: 60_000, what: 'the throttling answers to be served' });
    await waitTenantCaughtUp(connector, run.sim, id);
    await connector.stop();

    const requests = activity(run, id);
    const throttled = requests.filter((r) => r.status === 429);
    expect(throttled).toHaveLength(3);
    for (const answer of throttled) {
      // The same request again (same URL), no sooner than Retry-After.
      const retry = requests.find((r) => r !== answer && r.path === answer.path && r.at >= answer.at && requests.indexOf(r) > requests.indexOf(answer));
      expect(retry, `a retry of ${answer.path}`).toBeDefined();
      expect((retry?.at ?? 0) - answer.at).toBeGreaterThanOrEqual(2000);
    }
    // While paused, the tenant sent nothing at all: no request arrived within 2 s after the first 429
    // except those already on their way when it was answered (sent within a few ms).
    const first = throttled[0]?.at ?? 0;
    const during = requests.filter((r) => r.at > first + 250 && r.at < first + 1900);
    expect(during).toEqual([]);
    const m = connector.metrics;
    expect(await total(m.throttled, { tenant: id })).toBe(3);
    expect(await total(m.apiRequests, { tenant: id, status: '4xx' })).toBe(3);
    await expectComplete(run, id, { untilMs: lastListingAt(run.sim, id) - 2000 });
    expect(await deadLetters(run.harness, id)).toEqual([]);
  });

  it('row 1: 429 without Retry-After — jittered backoff, complete', async () => {
    const run = await startFaultRun({ seed: 'faults-429', simulator: { throttleStyle: '429' } });
    runs.push(run);
    const [id = ''] = run.ids;
    run.sim.faults.set(id, { throttle: { count: 4 } });
    const connector = await start(run);
    await waitTenantCaughtUp(connector, run.sim, id);
    await connector.stop();

    expect(run.sim.stats.count({ tenantId: id, status: 429 })).toBe(4);
    expect(run.sim.faults.get(id).throttle?.count).toBe(0);
    expect(await total(connector.metrics.throttled, { tenant: id })).toBe(4);
    await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
  });

  it('row 1: 403 AF429 from a low per-tenant quota — backs off until the quota frees, complete', async () => {
    // The quota is per minute of simulator time, so this simulator's clock runs (10 min behind the wall).
    const run = await startFaultRun({
      seed: 'faults-403-quota',
      clock: laggingClock(),
      tenants: [{ ...SMALL_TENANT, historyHours: 2, quotaPerMinute: 12 }],
      simulator: { throttleStyle: '403', throttleWindow: 'fixed' },
    });
    runs.push(run);
    const [id = ''] = run.ids;
    const connector = await start(run);
    const m = connector.metrics;
    await waitFor(async () => (await total(m.throttled, { tenant: id })) >= 1, { timeoutMs: 90_000, what: 'the quota to be used up' });
    await waitTenantCaughtUp(connector, run.sim, id, 150_000);
    await connector.stop();

    const refused = run.sim.stats.count({ tenantId: id, status: 403 });
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(await total(m.throttled, { tenant: id })).toBe(refused);
    // Every request named our PublisherIdentifier, so the tenant used its own pool, not the global one.
    expect(run.sim.stats.count({ tenantId: id, withPublisherIdentifier: false })).toBe(run.sim.stats.count({ tenantId: id, endpoint: 'token' }));
    await expectComplete(run, id, { untilMs: lastListingAt(run.sim, id) - 2000 });
    expect(await deadLetters(run.harness, id)).toEqual([]);
  });

  it('invariant 5: a throttled tenant and a faulty tenant do not hold back a healthy one', async () => {
    const healthy: TenantOptions = { ...SMALL_TENANT, id: '5f0b8a55-0d51-4a3c-9d2e-1d2a3b4c5d6e', name: 'contoso' };
    const alone = await startFaultRun({ seed: 'faults-isolation', tenants: [healthy] });
    runs.push(alone);
    let started = Date.now();
    const solo = await start(alone);
    await waitTenantCaughtUp(solo, alone.sim, healthy.id ?? '');
    const aloneMs = Date.now() - started;
    await solo.stop();

    const clock = frozenClock();
    const run = await startFaultRun({
      seed: 'faults-isolation',
      clock,
      tenants: [{ ...SMALL_TENANT, scenario: 'throttled' }, { ...SMALL_TENANT, scenario: 'faulty' }, healthy],
      simulator: { throttledQuotaPerMinute: 5 },
    });
    runs.push(run);
    const [throttledId = '', faultyId = '', healthyId = ''] = run.ids;
    started = Date.now();
    const connector = await start(run);
    await waitTenantCaughtUp(connector, run.sim, healthyId);
    const besideMs = Date.now() - started;
    const m = connector.metrics;
    // The throttled tenant is stuck on its quota (the simulator clock stands still), the faulty one is
    // working through its errors. The healthy one can be done (~1 s) before either has got that far:
    // give them the time to show it, then check.
    const deadline = Date.now() + 30_000;
    const othersShown = async (): Promise<boolean> =>
      (await total(m.throttled, { tenant: throttledId })) > 0 && run.sim.stats.count({ tenantId: faultyId, endpoint: 'blob' }) > 0;
    while (!(await othersShown()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await total(m.throttled, { tenant: throttledId })).toBeGreaterThan(0);
    await connector.stop();

    console.log(`isolation: healthy tenant alone ${aloneMs} ms, beside a throttled and a faulty tenant ${besideMs} ms`);
    expect(besideMs).toBeLessThan(aloneMs * 3 + 15_000);
    await expectComplete(run, healthyId);
    expect(await deadLetters(run.harness, healthyId)).toEqual([]);
    expect(connector.statuses()[healthyId]?.status).toBe('stopped');
    expect(await total(m.throttled, { tenant: healthyId })).toBe(0);
    expect(run.sim.stats.count({ tenantId: faultyId, endpoint: 'blob' })).toBeGreaterThan(0);
  });
});
