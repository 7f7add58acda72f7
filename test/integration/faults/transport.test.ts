import { describe, expect, it } from 'vitest';
import type { Connector } from '../../../src/runtime/connector.ts';
import { blobRecords, contentIdOf, deadLetters, expectComplete, fetchBlobRaw, isEvent, startFaultRun, total, waitTenantCaughtUp, type FaultRun, closeFaultRunAfterEach } from '../../support/fault-matrix.ts';
import { waitFor } from '../../support/time.ts';

/**
 * Fault matrix, transport rows: 5xx bursts (row 2), connection resets and timeouts in the middle of a
 * blob (row 3), BOM-prefixed blobs (row 5). Simulator (frozen clock) → connector → real Kafka; each
 * test compares Kafka with the simulator's ground truth, the dead-letter topic and the counters.
 */
describe('fault matrix: transport faults', () => {
  let run: FaultRun | undefined;
  let connector: Connector | undefined;
  closeFaultRunAfterEach(() => ({ run, connector }), () => {
    run = undefined;
    connector = undefined;
  });

  for (const endpoint of ['subscriptions-content', 'blob'] as const) {
    it(`row 2: a burst of 500 AF50000 on ${endpoint === 'blob' ? 'blob downloads' : 'listing'} — complete, nothing dead-lettered`, async () => {
      run = await startFaultRun({ seed: `faults-5xx-${endpoint}` });
      const [id = ''] = run.ids;
      const burst = endpoint === 'blob' ? 6 : 3;
      run.sim.faults.set(id, { serverErrors: { count: burst, endpoints: [endpoint] } });
      connector = await run.harness.startConnector();
      await waitTenantCaughtUp(connector, run.sim, id);
      await connector.stop();

      expect(run.sim.faults.get(id).serverErrors?.count).toBe(0);
      expect(run.sim.stats.count({ tenantId: id, status: 500 })).toBe(burst);
      expect(run.sim.stats.count({ tenantId: id, endpoint, status: 500 })).toBe(burst);
      await expectComplete(run, id);
      expect(await deadLetters(run.harness, id)).toEqual([]);
      const m = connector.metrics;
      expect(await total(m.apiRequests, { tenant: id, endpoint: endpoint === 'blob' ? 'blob' : 'content', status: '5xx' })).toBe(burst);
      expect(await total(m.deadLetters, { tenant: id })).toBe(0);
      expect(await total(m.dataLoss, { tenant: id })).toBe(0);
      expect(await total(m.blobs, { tenant: id, outcome: 'rejected' })).toBe(0);
    });
  }

  it('row 3: connection reset in the middle of blob bodies — blobs retried, complete', async () => {
    run = await startFaultRun({ seed: 'faults-reset' });
    const [id = ''] = run.ids;
    run.sim.faults.set(id, { resetBlobs: { count: 4, afterBytes: 300 } });
    connector = await run.harness.startConnector();
    await waitTenantCaughtUp(connector, run.sim, id);
    await connector.stop();

    expect(run.sim.faults.get(id).resetBlobs?.count).toBe(0);
    await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
    const m = connector.metrics;
    expect(await total(m.blobs, { tenant: id, outcome: 'retried' })).toBeGreaterThanOrEqual(4);
    expect(await total(m.blobs, { tenant: id, outcome: 'rejected' })).toBe(0);
    expect(await total(m.deadLetters, { tenant: id })).toBe(0);
  });

  it('row 3: blob answers slower than the request timeout, and a body that stalls midway — retried, complete', async () => {
    run = await startFaultRun({ seed: 'faults-timeout' });
    const [id = ''] = run.ids;
    // Headers later than requestTimeoutSeconds (1 s) for every blob until the fault is lifted.
    run.sim.faults.set(id, { delay: { ms: 2500, endpoints: ['blob'] } });
    connector = await run.harness.startConnector({ requestTimeoutSeconds: 1 });
    const m = connector.metrics;
    await waitFor(async () => (await total(m.blobs, { tenant: id, outcome: 'retried' })) >= 2, { timeoutMs: 60_000, what: 'blob timeouts to be retried' });
    // Then bodies that send 200 bytes and go quiet: the body timeout must end them.
    run.sim.faults.set(id, { delay: undefined, stallBlobs: { count: 2, afterBytes: 200 } });
    await waitTenantCaughtUp(connector, run.sim, id);
    await connector.stop();

    expect(run.sim.faults.get(id).stallBlobs?.count).toBe(0);
    await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
    const failures = run.log.find(40, { msg: 'Blob failed; retrying' }).map((l) => String(l['err']));
    expect(failures.filter((e) => e.includes('Headers Timeout')).length).toBeGreaterThanOrEqual(2);
    expect(failures.filter((e) => e.includes('Body Timeout')).length).toBe(2);
    expect(await total(m.blobs, { tenant: id, outcome: 'retried' })).toBe(failures.length);
    expect(await total(m.apiRequests, { tenant: id, endpoint: 'blob', status: 'error' })).toBeGreaterThanOrEqual(2);
    expect(await total(m.deadLetters, { tenant: id })).toBe(0);
  });

  it('row 5: blobs that start with a UTF-8 BOM are parsed and published', async () => {
    run = await startFaultRun({ seed: 'faults-bom', tenants: [{ eventsPerHour: 20, historyHours: 6, recordsPerBlob: 5, bomFraction: 0.5 }] });
    const [id = ''] = run.ids;
    connector = await run.harness.startConnector();
    await waitTenantCaughtUp(connector, run.sim, id);
    await connector.stop();

    const published = await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
    const served = [...new Set(run.sim.stats.requests.filter((r) => r.tenantId === id && r.endpoint === 'blob' && r.status === 200).map((r) => contentIdOf(r.path)))];
    let bomBlobs = 0;
    for (const contentId of served) {
      const body = await fetchBlobRaw(run.sim, id, contentId);
      if (body[0] !== 0xef || body[1] !== 0xbb || body[2] !== 0xbf) continue;
      bomBlobs += 1;
      // Every record of a BOM blob that the normalizer turns into an event is in Kafka, the first one included.
      const events = blobRecords(body).filter((r) => isEvent(r.json, id));
      expect(events.length).toBeGreaterThan(0);
      expect(events.filter((r) => !published.unique.has(r.id))).toEqual([]);
    }
    expect(bomBlobs).toBeGreaterThan(0);
    expect(await total(connector.metrics.records, { tenant: id, outcome: 'rejected' })).toBe(0);
  });
});
