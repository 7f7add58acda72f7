import { describe, expect, it } from 'vitest';
import type { Connector } from '../../../src/runtime/connector.ts';
import { ManualClock } from '../../../src/simulator/index.ts';
import { deadLetters, expectComplete, publishedIds, startFaultRun, total, waitTenantCaughtUp, type FaultRun, closeFaultRunAfterEach } from '../../support/fault-matrix.ts';
import { waitFor } from '../../support/time.ts';

/**
 * Fault matrix, listing rows: AF20055 (row 7: never caused by our planner over a whole 7-day backlog;
 * survived when the service answers it anyway) and NextPageUri that loops or comes with empty pages
 * (row 11).
 */
describe('fault matrix: listing faults', () => {
  let run: FaultRun | undefined;
  let connector: Connector | undefined;
  closeFaultRunAfterEach(() => ({ run, connector }), () => {
    run = undefined;
    connector = undefined;
  });

  it('row 7: a whole 7-day backlog is listed without a single AF20055', async () => {
    // The simulator's clock stands at the connector's start, as Microsoft's would: the oldest window
    // is planned right at the 7-day edge.
    run = await startFaultRun({
      seed: 'faults-af20055-backlog',
      clock: new ManualClock(Date.now()),
      tenants: [{ eventsPerHour: 8, recordsPerBlob: 20, historyHours: 170 }],
    });
    const [id = ''] = run.ids;
    connector = await run.harness.startConnector({ firstRunLookbackHours: 168 });
    await run.harness.waitCaughtUp(connector, 150_000);
    await connector.stop();

    const listings = run.sim.stats.requests.filter((r) => r.tenantId === id && r.endpoint === 'subscriptions-content');
    expect(listings.length).toBeGreaterThanOrEqual(7);
    expect(listings.filter((r) => r.status !== 200)).toEqual([]);
    expect(run.log.find(40, { code: 'API_INVALID_WINDOW' })).toEqual([]);
    // Everything inside the connector's reach arrived, once.
    const { required, allowed } = await run.harness.expectedEventIds(id);
    const published = await publishedIds(run.harness, id);
    expect(required.size).toBeGreaterThan(500);
    expect([...required].filter((e) => !published.unique.has(e))).toEqual([]);
    expect([...published.unique].filter((e) => !allowed.has(e))).toEqual([]);
    expect(published.all.length).toBe(published.unique.size);
    // A 168 h lookback asks for 10 minutes more than the planner's safety margin lets it list: that
    // slice is reported (ERROR + data-loss counter), not silently skipped, and never requested.
    expect(await total(connector.metrics.dataLoss, { tenant: id, reason: 'window-expired' })).toBe(1);
    expect(run.log.find(50, { msg: 'Content in this range is older than the 7 days the API keeps and can no longer be collected' })).toHaveLength(1);
  });

  it('row 7: when the service answers AF20055 anyway, the connector plans again and completes', async () => {
    run = await startFaultRun({ seed: 'faults-af20055-answered' });
    const [id = ''] = run.ids;
    run.sim.faults.set(id, { invalidWindow: { count: 2 } });
    connector = await run.harness.startConnector();
    await waitTenantCaughtUp(connector, run.sim, id);
    await connector.stop();

    expect(run.sim.stats.count({ tenantId: id, endpoint: 'subscriptions-content', status: 400 })).toBe(2);
    expect(run.log.find(40, { code: 'API_INVALID_WINDOW', msg: 'Polling failed; backing off' })).toHaveLength(2);
    await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
    expect(await total(connector.metrics.dataLoss, { tenant: id })).toBe(0);
  });

  it('row 11: a NextPageUri that loops — detected and logged, no hang; complete once it stops', async () => {
    run = await startFaultRun({ seed: 'faults-page-loop', simulator: { pageSize: 5 } });
    const [id = ''] = run.ids;
    run.sim.faults.set(id, { loopingNextPage: true });
    connector = await run.harness.startConnector();
    const loops = (): number => run?.log.find(40, { code: 'API_PAGE_LOOP', msg: 'Polling failed; backing off' }).length ?? 0;
    await waitFor(() => loops() >= 3, { timeoutMs: 60_000, what: 'the page loop to be detected three times' });
    // No hang and no hammering: each detection costs a couple of listing requests, then a backoff.
    const listingsWhileLooping = run.sim.stats.count({ tenantId: id, endpoint: 'subscriptions-content' });
    expect(listingsWhileLooping).toBeLessThanOrEqual(3 * (loops() + 1));
    expect(connector.statuses()[id]?.status).toBe('degraded');
    run.sim.faults.set(id, { loopingNextPage: undefined });
    await waitTenantCaughtUp(connector, run.sim, id);
    await connector.stop();

    await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
  });

  it('row 11: empty pages that still carry a NextPageUri are followed; complete', async () => {
    run = await startFaultRun({ seed: 'faults-empty-pages', simulator: { pageSize: 5 } });
    const [id = ''] = run.ids;
    run.sim.faults.set(id, { emptyPagesWithNextPage: { count: 3 } });
    connector = await run.harness.startConnector();
    await waitTenantCaughtUp(connector, run.sim, id);
    await connector.stop();

    expect(run.sim.faults.get(id).emptyPagesWithNextPage?.count).toBe(0);
    const blobs = (await run.sim.expectedRecords(id)).blobs.length;
    // Three empty pages plus the real ones, all followed.
    expect(run.sim.stats.count({ tenantId: id, endpoint: 'subscriptions-content', status: 200 })).toBeGreaterThanOrEqual(3 + Math.ceil(blobs / 5));
    // The simulator's second empty page names the very URL just fetched: the connector takes that as a
    // loop once, backs off and lists the window again (no hang, no data lost).
    expect(run.log.find(40, { code: 'API_PAGE_LOOP', msg: 'Polling failed; backing off' }).length).toBeLessThanOrEqual(1);
    await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
  });
});
