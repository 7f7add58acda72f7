import { describe, expect, it } from 'vitest';
import type { Connector } from '../../../src/runtime/connector.ts';
import { callApi, deadLetters, eventsPublished, expectComplete, frozenClock, laggingClock, lastListingAt, startFaultRun, tenantCaughtUp, total, waitTenantCaughtUp, type FaultRun, closeFaultRunAfterEach } from '../../support/fault-matrix.ts';
import { waitFor } from '../../support/time.ts';

/** Blob answers slowed down and taken one at a time, so a test can change the tenant "mid-run". */
const SLOW_BLOBS = { delay: { ms: 300, endpoints: ['blob' as const] } };

/**
 * Fault matrix, tenant-state rows: the subscription missing or disabled mid-run (row 8), an access
 * token that expires mid-run (row 9), audit logging switched off and on again mid-run, next to a
 * tenant that is not affected (row 10, invariant 5).
 */
describe('fault matrix: tenant state changes mid-run', () => {
  let run: FaultRun | undefined;
  let connector: Connector | undefined;
  closeFaultRunAfterEach(() => ({ run, connector }), () => {
    run = undefined;
    connector = undefined;
  });

  function statusChanges(tenantId: string): string[] {
    return (run?.log.lines() ?? []).filter((l) => l['msg'] === 'Tenant status changed' && l['tenant'] === tenantId).map((l) => String(l['status']));
  }

  it('row 8: subscription disabled by an admin mid-run (AF20023) — re-subscribed, complete', async () => {
    run = await startFaultRun({ seed: 'faults-sub-disabled' });
    const [id = ''] = run.ids;
    run.sim.faults.set(id, SLOW_BLOBS);
    connector = await run.harness.startConnector({ blobConcurrencyPerTenant: 1 });
    const c = connector;
    await waitFor(async () => (await eventsPublished(c, id)) > 0, { timeoutMs: 60_000, what: 'a first blob' });
    run.sim.disableSubscription(id);
    await waitTenantCaughtUp(connector, run.sim, id);
    // Healthy again once a listing pass after the re-subscription is answered (blob retries may catch up first).
    await waitFor(() => c.statuses()[id]?.status === 'healthy', { timeoutMs: 30_000, what: 'the healthy status after a listing' });
    await connector.stop();

    expect(run.sim.stats.count({ tenantId: id, status: 400 })).toBeGreaterThanOrEqual(1);
    expect(run.sim.stats.count({ tenantId: id, endpoint: 'subscriptions-start', status: 200 })).toBe(2);
    expect(statusChanges(id)).toContain('subscription-disabled');
    expect(statusChanges(id).at(-2)).toBe('healthy');
    await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
    expect(await total(c.metrics.dataLoss, { tenant: id })).toBe(0);
  });

  it('row 8: subscription stopped mid-run (AF20022) — subscribed again, complete', async () => {
    run = await startFaultRun({ seed: 'faults-sub-missing' });
    const [id = ''] = run.ids;
    run.sim.faults.set(id, SLOW_BLOBS);
    connector = await run.harness.startConnector({ blobConcurrencyPerTenant: 1 });
    const c = connector;
    await waitFor(async () => (await eventsPublished(c, id)) > 0, { timeoutMs: 60_000, what: 'a first blob' });
    expect((await callApi(run.sim, id, 'POST', 'subscriptions/stop?contentType=Audit.SharePoint')).status).toBe(200);
    await waitTenantCaughtUp(connector, run.sim, id);
    await connector.stop();

    expect(run.sim.stats.count({ tenantId: id, status: 400 })).toBeGreaterThanOrEqual(1);
    expect(run.sim.stats.count({ tenantId: id, endpoint: 'subscriptions-start', status: 200 })).toBe(2);
    await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
  });

  it('row 9: the access token expires mid-run — refreshed, complete, no 401 loop', async () => {
    const clock = frozenClock();
    // msal renews 5 minutes before expiry; a 400 s token is reused for about 100 s of wall time, during
    // which the simulator's clock jumps past its expiry: the token msal holds is refused.
    run = await startFaultRun({ seed: 'faults-token-expiry', clock, simulator: { tokenLifetimeSeconds: 400 } });
    const [id = ''] = run.ids;
    run.sim.faults.set(id, SLOW_BLOBS);
    connector = await run.harness.startConnector({ blobConcurrencyPerTenant: 1 });
    const c = connector;
    await waitFor(async () => (await eventsPublished(c, id)) > 0, { timeoutMs: 60_000, what: 'a first blob' });
    const tokensBefore = run.sim.stats.count({ tenantId: id, endpoint: 'token', status: 200 });
    clock.advance(401_000);
    const expiredAt = clock.now();
    await waitFor(() => run?.sim.stats.requests.some((r) => r.tenantId === id && r.endpoint === 'subscriptions-content' && r.status === 200 && r.at >= expiredAt) === true, {
      timeoutMs: 60_000,
      what: 'a listing with a fresh token',
    });
    await waitTenantCaughtUp(connector, run.sim, id);
    await connector.stop();

    const refused = run.sim.stats.count({ tenantId: id, status: 401 });
    expect(refused).toBeGreaterThanOrEqual(1);
    // One refused call per request in flight at most, then a new token: no loop.
    expect(refused).toBeLessThanOrEqual(3);
    expect(run.sim.stats.count({ tenantId: id, endpoint: 'token', status: 200 })).toBeGreaterThan(tokensBefore);
    expect(statusChanges(id)).not.toContain('permission-missing');
    await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
  });

  it('row 9: tokens that live 20 s on a running clock — renewed as they go, never refused, complete', async () => {
    run = await startFaultRun({ seed: 'faults-token-short', clock: laggingClock(), simulator: { tokenLifetimeSeconds: 20 } });
    const [id = ''] = run.ids;
    run.sim.faults.set(id, SLOW_BLOBS);
    connector = await run.harness.startConnector({ blobConcurrencyPerTenant: 1 });
    await waitTenantCaughtUp(connector, run.sim, id);
    await connector.stop();

    expect(run.sim.stats.count({ tenantId: id, status: 401 })).toBe(0);
    const tokens = run.sim.stats.count({ tenantId: id, endpoint: 'token', status: 200 });
    const calls = run.sim.stats.count({ tenantId: id }) - tokens;
    console.log(`short-lived tokens: ${tokens} token requests for ${calls} API calls`);
    expect(tokens).toBeGreaterThan(1);
    await expectComplete(run, id, { untilMs: lastListingAt(run.sim, id) - 2000 });
    expect(await deadLetters(run.harness, id)).toEqual([]);
  });

  it('row 10: audit logging switched off mid-run — status audit-disabled with the action, the other tenant unaffected; resumes when on again', async () => {
    run = await startFaultRun({ seed: 'faults-audit-off', tenants: [{ eventsPerHour: 20, historyHours: 6, recordsPerBlob: 5 }, { eventsPerHour: 20, historyHours: 6, recordsPerBlob: 5 }] });
    const [off = '', other = ''] = run.ids;
    run.sim.faults.set(off, SLOW_BLOBS);
    run.sim.faults.set(other, SLOW_BLOBS);
    connector = await run.harness.startConnector({ blobConcurrencyPerTenant: 1 });
    const c = connector;
    await waitFor(async () => (await eventsPublished(c, off)) > 0, { timeoutMs: 60_000, what: 'a first blob' });
    run.sim.setAuditEnabled(off, false);
    await waitFor(() => c.statuses()[off]?.status === 'audit-disabled', { timeoutMs: 60_000, what: 'the audit-disabled status' });
    const status = c.statuses()[off];
    expect(status?.action).toMatch(/Turn on audit log search/);
    expect(status?.errorCode).toBe('API_AUDIT_DISABLED');
    expect(await total(c.metrics.tenantStatus, { tenant: off, status: 'audit-disabled' })).toBe(1);

    // The other tenant finishes while this one waits for its admin.
    await waitTenantCaughtUp(c, run.sim, other);
    expect(c.statuses()[off]?.status).toBe('audit-disabled');
    expect(tenantCaughtUp(c, run.sim, off)).toBe(false);
    expect(c.statuses()[other]?.status).toBe('healthy');
    await expectComplete(run, other);

    run.sim.setAuditEnabled(off, true);
    await waitTenantCaughtUp(c, run.sim, off);
    // Healthy again once a listing is answered (blob retries may catch up first): within a poll interval.
    await waitFor(() => c.statuses()[off]?.status === 'healthy', { timeoutMs: 30_000, what: 'the healthy status after a listing' });
    await c.stop();

    await expectComplete(run, off);
    expect(await deadLetters(run.harness)).toEqual([]);
    expect(statusChanges(other)).not.toContain('audit-disabled');
    expect(await total(c.metrics.dataLoss)).toBe(0);
  });
});
