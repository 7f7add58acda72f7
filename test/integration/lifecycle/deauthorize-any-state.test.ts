import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/simulator/index.ts';
import { readAll } from '../../support/kafka.ts';
import { harnessPerTest } from '../../support/pipeline-harness.ts';
import { waitFor } from '../../support/time.ts';

const TOKEN = 'deauth-any-state-token';
const DAY_MS = 86_400_000;

/**
 * Deauthorization works whatever the connection's status (issue 8 item 7), against the simulator and
 * a real broker: one tenant in each of PendingConsent, Initializing, Error (consent revoked: every
 * token request refused), Maintenance and Paused is deauthorized through the admin API. Each stops at
 * once, is marked in the registry, has its cursor tombstoned and its transition published; the
 * subscription stop is tried where consent was given and its failure never blocks. A connector
 * started 91 days later purges every one of them (injected clock); published events stay.
 */
describe('deauthorize whatever the status', () => {
  const startHarness = harnessPerTest();

  it('stops, marks, tombstones and publishes from PendingConsent, Initializing, Error, Maintenance and Paused; purged after 90 days', async () => {
    const clock = new ManualClock(Date.now());
    const harness = await startHarness({
      simulator: {
        seed: 'deauth-any-state',
        clock,
        eventsPerHour: 30,
        // First content of a new subscription is listed late: consented tenants stay Initializing.
        firstContentDelayMinutes: 600,
        tenants: [{}, {}, { scenario: 'no-consent' }, {}, {}],
      },
    });
    const sim = harness.sim;
    const [pending, initializing, failing, maintenance, paused] = sim.tenants.map((t) => t.id) as [string, string, string, string, string];
    // The pending tenant is added through the API (no consent yet); the others are seeded, hence consented.
    const tenants = harness.config.tenants.filter((t) => t.id !== pending);
    const { connector: c, api } = await harness.startAdminConnector({ token: TOKEN, tenants });
    const state = (id: string): string | undefined => c.connections()[id]?.state;

    // Bring one tenant into each state.
    expect((await api('POST', '/tenants', { id: pending, plan: 'E5' })).body).toMatchObject({ status: { state: 'PendingConsent' } });
    await waitFor(() => c.connections()[initializing]?.reason === 'subscribed', { timeoutMs: 60_000, what: 'the Initializing tenant subscribed' });
    await waitFor(() => state(failing) === 'Error', { timeoutMs: 60_000, what: 'the revoked tenant in Error' });
    expect(c.connections()[failing]?.reason).toBe('consent-missing');
    await waitFor(() => c.connections()[maintenance]?.reason === 'subscribed' && c.connections()[paused]?.reason === 'subscribed', { timeoutMs: 60_000, what: 'the others subscribed' });
    const window = { from: new Date(clock.now() - 60_000).toISOString(), to: new Date(clock.now() + 6 * 3600_000).toISOString() };
    expect((await api('POST', `/tenants/${maintenance}/maintenance`, window)).status).toBe(200);
    await waitFor(() => state(maintenance) === 'Maintenance', { timeoutMs: 30_000, what: 'Maintenance' });
    expect((await api('POST', `/tenants/${paused}/pause`)).body).toMatchObject({ status: { state: 'Paused' } });
    const before: Record<string, string | undefined> = { [pending]: 'PendingConsent', [initializing]: 'Initializing', [failing]: 'Error', [maintenance]: 'Maintenance', [paused]: 'Paused' };
    for (const [id, wanted] of Object.entries(before)) expect(state(id), id).toBe(wanted);

    const stopsBefore = (id: string): number => sim.stats.count({ endpoint: 'subscriptions-stop', tenantId: id });
    for (const id of Object.keys(before)) {
      const answer = await api('POST', `/tenants/${id}/deauthorize`);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ desiredState: 'deauthorized', status: { state: 'Deauthorized' } });
      expect(answer.body['deauthorizedAt']).toEqual(expect.any(String));
      // Stopped at once: no poller runs for it when the answer arrives.
      expect(c.statuses()[id]?.status, id).toBe('stopped');
      expect(c.registry.get(id)).toMatchObject({ desiredState: 'deauthorized', status: { state: 'Deauthorized' } });
    }
    // The subscription stop is tried where consent was given and a token could be had; never for the
    // tenant that never consented; the revoked one could not get a token, and was deauthorized anyway.
    for (const id of [initializing, maintenance, paused]) expect(stopsBefore(id), id).toBe(1);
    expect(stopsBefore(pending)).toBe(0);
    expect(stopsBefore(failing)).toBe(0);

    // Each deauthorization is on the connection-status topic, and every cursor ends in a tombstone.
    const statusEvents = await readAll(harness.config.kafka.topics.connectionStatus, { isolation: 'read_committed', deadlineMs: 30_000 });
    for (const [id, from] of Object.entries(before)) {
      const last = statusEvents.filter((m) => m.key === id).map((m) => JSON.parse(m.value ?? '{}') as { from: string; to: string }).at(-1);
      expect(last, id).toMatchObject({ from, to: 'Deauthorized' });
    }
    const cursors = await readAll(harness.config.kafka.topics.cursors, { isolation: 'read_committed', deadlineMs: 30_000 });
    for (const id of Object.keys(before)) {
      const own = cursors.filter((m) => m.key === `${id}|Audit.SharePoint`);
      expect(own.at(-1)?.value, id).toBeNull();
    }
    const requestsAfter = sim.stats.requests.filter((q) => q.tenantId !== undefined && q.tenantId in before).length;
    await c.stop();
    // Nothing asked Microsoft anything for these tenants after their deauthorization (the stop drained nothing new).
    expect(sim.stats.requests.filter((q) => q.tenantId !== undefined && q.tenantId in before).length).toBe(requestsAfter);

    // 91 days later: a connector (clock injected) purges every record; a resume finds nothing.
    const { connector: later, api: laterApi } = await harness.startAdminConnector({ token: TOKEN, tenants, clock: new ManualClock(clock.now() + 91 * DAY_MS) });
    await waitFor(() => Object.keys(before).every((id) => later.registry.get(id) === undefined), { timeoutMs: 30_000, what: 'the purge of every deauthorized tenant' });
    expect((await laterApi('POST', `/tenants/${initializing}/resume`)).status).toBe(404);
  }, 300_000);
});
