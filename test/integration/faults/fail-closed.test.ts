import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { Connector } from '../../../src/runtime/connector.ts';
import { OTHER_TENANT } from '../../../src/simulator/api/listing.ts';
import type { TokenFault } from '../../../src/simulator/faults.ts';
import { closeFaultRunAfterEach, deadLetters, expectComplete, listedBlobIds, publishedIds, SMALL_TENANT, startFaultRun, total, waitTenantCaughtUp, type FaultRun } from '../../support/fault-matrix.ts';
import { waitFor } from '../../support/time.ts';

/**
 * Fault matrix, fail-closed rows (issue 13): token endpoint answers that are not a token (row 14),
 * a slow token endpoint (row 15), blob downloads answered with a redirect (row 16), contentUris on
 * the right host whose path leaves the tenant's feed once decoded or resolved (row 17), and a spool
 * directory that stops taking files and comes back (row 18). Every row also checks that no request
 * carried an empty bearer or went to a place the token does not belong.
 */
describe('fault matrix: fail closed', () => {
  let run: FaultRun | undefined;
  let connector: Connector | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  closeFaultRunAfterEach(
    () => ({ run, connector }),
    () => {
      run = undefined;
      connector = undefined;
      for (const cleanup of cleanups.splice(0)) void cleanup();
    },
  );

  /** No request with `Authorization: Bearer ` and nothing after it; none towards another tenant's feed; no token in the logs. */
  function expectNoBadTokens(r: FaultRun): void {
    expect(r.sim.stats.requests.filter((q) => q.emptyBearer === true)).toEqual([]);
    expect(r.sim.stats.requests.filter((q) => q.path.toLowerCase().includes(OTHER_TENANT) || q.tenantId === OTHER_TENANT)).toEqual([]);
    expect(JSON.stringify(r.log.lines())).not.toMatch(/Bearer|eyJ[\w-]+\.eyJ/);
  }

  const statusOf = (id: string): string | undefined => connector?.statuses()[id]?.status;

  it.each<[TokenFault, string]>([
    ['redirect-307', 'AUTH_BAD_ANSWER'],
    ['redirect-302', 'AUTH_BAD_ANSWER'],
    ['html-500', 'AUTH_UNAVAILABLE'],
    ['empty-200', 'AUTH_BAD_ANSWER'],
    ['no-access-token-200', 'AUTH_BAD_ANSWER'],
  ])('row 14: token endpoint answers %s — %s, status token-endpoint-failed, no API call at all; complete once it answers again', async (fault, code) => {
    run = await startFaultRun({ seed: `faults-token-${fault}`, tenants: [{ ...SMALL_TENANT, historyHours: 2 }] });
    const [id = ''] = run.ids;
    run.sim.faults.set(id, { tokenAnswer: fault });
    connector = await run.harness.startConnector();
    await waitFor(() => statusOf(id) === 'token-endpoint-failed', { timeoutMs: 60_000, what: 'status token-endpoint-failed' });
    expect(connector.statuses()[id]).toMatchObject({ errorCode: code, action: expect.stringContaining('endpoints.loginBaseUrl') as unknown });
    // Two token attempts at least, and not one call to the activity API (it would have carried an empty bearer).
    await waitFor(() => (run?.sim.stats.count({ tenantId: id, endpoint: 'token' }) ?? 0) >= 2, { timeoutMs: 60_000, what: 'a second token attempt' });
    const feedCalls = run.sim.stats.requests.filter((q) => q.tenantId === id && q.endpoint !== 'token');
    expect(feedCalls).toEqual([]);
    const changed = run.log.find(40, { msg: 'Tenant status changed', status: 'token-endpoint-failed' });
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ code });
    // Quiet while waiting for a human: the failures repeat, the WARN does not (the text is at debug).
    expect(run.log.find(40, { tenant: id, msg: 'Polling failed; backing off' })).toEqual([]);
    expect(run.log.find(20, { tenant: id, msg: 'Polling failed; backing off' }).length).toBeGreaterThanOrEqual(1);

    run.sim.faults.set(id, { tokenAnswer: undefined });
    await waitTenantCaughtUp(connector, run.sim, id);
    expect(statusOf(id)).toBe('healthy');
    await connector.stop();
    await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
    expect(await total(connector.metrics.dataLoss, { tenant: id })).toBe(0);
    expectNoBadTokens(run);
  });

  it('row 15: a token endpoint slower than the request timeout — AUTH_UNAVAILABLE, retried; complete once it is fast again', async () => {
    run = await startFaultRun({ seed: 'faults-token-slow', tenants: [{ ...SMALL_TENANT, historyHours: 2 }] });
    const [id = ''] = run.ids;
    run.sim.faults.set(id, { delay: { ms: 3_000, endpoints: ['token'] } });
    connector = await run.harness.startConnector({ requestTimeoutSeconds: 1 });
    await waitFor(() => statusOf(id) === 'token-endpoint-failed', { timeoutMs: 60_000, what: 'status token-endpoint-failed' });
    expect(connector.statuses()[id]?.errorCode).toBe('AUTH_UNAVAILABLE');
    expect(run.sim.stats.requests.filter((q) => q.tenantId === id && q.endpoint !== 'token')).toEqual([]);

    run.sim.faults.set(id, { delay: undefined });
    await waitTenantCaughtUp(connector, run.sim, id);
    await connector.stop();
    await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
    expectNoBadTokens(run);
  });

  it('row 16: blob downloads answered 301/302/307/308 — never followed, each blob tried once, dead-lettered as redirected and counted as data loss', async () => {
    const statuses = [301, 302, 307, 308] as const;
    run = await startFaultRun({ seed: 'faults-blob-redirects', tenants: statuses.map(() => ({ ...SMALL_TENANT, historyHours: 2 })) });
    const r = run;
    r.ids.forEach((id, i) => r.sim.faults.set(id, { redirectBlobs: { status: statuses[i]! } }));
    connector = await r.harness.startConnector();
    for (const id of r.ids) await waitTenantCaughtUp(connector, r.sim, id);
    await connector.stop();

    const m = connector.metrics;
    for (const [i, id] of r.ids.entries()) {
      const blobs = await listedBlobIds(r.sim, id);
      expect(blobs.length).toBeGreaterThan(1);
      // Bounded: one attempt per blob; the redirect is permanent.
      expect(r.sim.stats.count({ tenantId: id, endpoint: 'blob', status: statuses[i]! })).toBe(blobs.length);
      const letters = await deadLetters(r.harness, id);
      expect(letters.map((l) => l['contentId']).sort()).toEqual([...blobs].sort());
      for (const letter of letters) {
        expect(letter).toMatchObject({ reason: 'redirected', stage: 'download', payload: null });
        expect(String(letter['detail'])).toContain(`HTTP ${statuses[i]!}`);
        // The Location is named without its query (it may carry a signature).
        expect(String(letter['detail'])).toContain('https://redirected.example.invalid/audit/');
        expect(String(letter['detail'])).not.toContain('sig=');
      }
      expect(await total(m.dataLoss, { tenant: id, reason: 'redirected' })).toBe(blobs.length);
      expect(await total(m.blobs, { tenant: id, outcome: 'rejected' })).toBe(blobs.length);
      expect(await total(m.blobs, { tenant: id, outcome: 'retried' })).toBe(0);
      expect((await publishedIds(r.harness, id)).all).toEqual([]);
      expect(connector.statuses()[id]?.status).toBe('stopped');
    }
    expectNoBadTokens(r);
  });

  it('row 17: contentUris whose path leaves the feed once %2F is decoded or .. resolved — refused before any request, dead-lettered as foreign-host', async () => {
    const tricks = ['encoded-slash', 'dot-segment'] as const;
    run = await startFaultRun({ seed: 'faults-path-tricks', tenants: tricks.map(() => ({ ...SMALL_TENANT, historyHours: 2 })) });
    const r = run;
    r.ids.forEach((id, i) => r.sim.faults.set(id, { contentUriPathTrick: tricks[i]! }));
    connector = await r.harness.startConnector();
    for (const id of r.ids) await waitTenantCaughtUp(connector, r.sim, id);
    await connector.stop();

    const m = connector.metrics;
    for (const [i, id] of r.ids.entries()) {
      const blobs = await listedBlobIds(r.sim, id);
      expect(blobs.length).toBeGreaterThan(1);
      expect(r.sim.stats.count({ tenantId: id, endpoint: 'blob' })).toBe(0);
      const letters = await deadLetters(r.harness, id);
      expect(letters.map((l) => l['contentId']).sort()).toEqual([...blobs].sort());
      for (const letter of letters) expect(letter).toMatchObject({ reason: 'foreign-host', stage: 'download' });
      expect(String(letters[0]?.['detail'])).toContain('expected a URL under');
      expect(await total(m.foreignHostRefused, { tenant: id, kind: 'contentUri' })).toBe(blobs.length);
      expect(await total(m.dataLoss, { tenant: id, reason: 'foreign-host' })).toBe(blobs.length);
      const refusals = r.log.find(40, { tenant: id, msg: 'Refused a URL outside the tenant API host; the token was not sent' });
      expect(refusals).toHaveLength(blobs.length);
      expect(refusals[0]?.['refusal']).toBe(tricks[i] === 'encoded-slash' ? 'encoded-separator' : 'path');
    }
    // Nothing reached the simulator under the other tenant's path, with or without a token.
    expectNoBadTokens(r);
  });

  it('row 18: spool directory unwritable mid-run — spool-unavailable status, metric, /readyz 503, nothing lost; recovers by itself when writable again', async () => {
    const base = await mkdtemp(join(tmpdir(), 'faults-spool-'));
    cleanups.push(() => rm(base, { recursive: true, force: true }));
    const spoolDirectory = join(base, 'spool');
    await mkdir(spoolDirectory);
    run = await startFaultRun({ seed: 'faults-spool', tenants: [{ ...SMALL_TENANT, historyHours: 3 }] });
    const [id = ''] = run.ids;
    // Blobs held back a moment, so the directory can be broken after start-up's check passed.
    run.sim.faults.set(id, { delay: { ms: 1_500, endpoints: ['blob'] } });
    // Every blob goes to disk.
    connector = await run.harness.startConnector({ spoolDirectory, maxInMemoryBlobBytes: 256 });
    const c = connector;
    await rm(spoolDirectory, { recursive: true, force: true });
    await writeFile(spoolDirectory, 'now a file: ENOTDIR below it');
    run.sim.faults.set(id, { delay: undefined });

    await waitFor(() => statusOf(id) === 'spool-unavailable', { timeoutMs: 60_000, what: 'status spool-unavailable' });
    const readyz = async (): Promise<number> => (await request(`${c.metricsUrl() ?? ''}/readyz`)).statusCode;
    expect(await readyz()).toBe(503);
    expect(c.statuses()[id]).toMatchObject({ errorCode: 'SPOOL_UNAVAILABLE', action: expect.stringContaining('connector.spoolDirectory') as unknown });
    expect(await total(c.metrics.spoolFailures)).toBeGreaterThan(0);
    expect(await total(c.metrics.spoolWritable)).toBe(0);
    // Still failing a while later: no silent "healthy" in between.
    await waitFor(async () => (await total(c.metrics.spoolFailures)) >= 3, { timeoutMs: 60_000, what: 'more spool failures' });
    expect(statusOf(id)).toBe('spool-unavailable');
    expect(await deadLetters(run.harness, id)).toEqual([]);

    await rm(spoolDirectory, { force: true });
    await mkdir(spoolDirectory);
    await waitTenantCaughtUp(c, run.sim, id);
    await waitFor(() => statusOf(id) === 'healthy', { timeoutMs: 30_000, what: 'healthy again' });
    expect(await readyz()).toBe(200);
    expect(await total(c.metrics.spoolWritable)).toBe(1);
    await c.stop();
    await expectComplete(run, id);
    expect(await deadLetters(run.harness, id)).toEqual([]);
    expect(await total(c.metrics.dataLoss, { tenant: id })).toBe(0);
    expect(run.log.find(40, { msg: 'Tenant status changed', status: 'spool-unavailable' })).toHaveLength(1);
    expectNoBadTokens(run);
  });
});
