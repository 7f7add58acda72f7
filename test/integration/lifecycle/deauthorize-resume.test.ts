import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/simulator/index.ts';
import { readAll } from '../../support/kafka.ts';
import { harnessPerTest } from '../../support/pipeline-harness.ts';
import { waitFor } from '../../support/time.ts';

const TOKEN = 'deauth-admin-token';

/**
 * Deauthorization while Monitoring against the simulator and a real broker, then a resume within the
 * retention: the poller stops, the subscription is stopped, the cursor record is tombstoned and parked
 * in the registry, and the resumed poller starts from the parked cursor (not from the first-run lookback).
 */
describe('deauthorize and resume', () => {
  const startHarness = harnessPerTest();

  it('tombstones and parks the cursor, and a resume continues from it with nothing published twice', async () => {
    const clock = new ManualClock(Date.now());
    const harness = await startHarness({ simulator: { seed: 'deauth', clock, eventsPerHour: 30, tenants: [{ historyHours: 12 }] } });
    const tenant = harness.sim.tenants[0]!.id;
    const admin = await harness.startAdminConnector({ token: TOKEN });
    const connector = admin.connector;
    const config = harness.config;
    const api = async (path: string) => (await admin.api('POST', path)).body as { status: { state: string }; deauthorizedAt?: string };
    await harness.waitCaughtUp(connector, 120_000);
    await waitFor(() => connector.connections()[tenant]?.state === 'Monitoring', { timeoutMs: 30_000, what: 'Monitoring' });

    const deauthorized = await api(`/tenants/${tenant}/deauthorize`);
    expect(deauthorized.status.state).toBe('Deauthorized');
    expect(deauthorized.deauthorizedAt).toBeDefined();
    expect(harness.sim.stats.count({ endpoint: 'subscriptions-stop', tenantId: tenant })).toBe(1);
    const parked = connector.registry.get(tenant)?.parkedCursor;
    expect(parked?.lowerBound).toBeDefined();
    const cursorKey = `${tenant}|Audit.SharePoint`;
    const cursors = await readAll(config.kafka.topics.cursors, { isolation: 'read_committed', deadlineMs: 30_000 });
    expect(cursors.filter((m) => m.key === cursorKey).at(-1)?.value).toBeNull();
    const eventsBefore = (await harness.readEvents()).length;

    clock.advance(3600_000);
    // Initializing, or already Monitoring when the first listing after the resume returned content.
    expect(['Initializing', 'Monitoring']).toContain((await api(`/tenants/${tenant}/resume`)).status.state);
    await waitFor(() => connector.connections()[tenant]?.state === 'Monitoring', { timeoutMs: 60_000, what: 'Monitoring after the resume' });
    // Content made available while the subscription was stopped is never listed (o365-api.md §1.5); new content is.
    clock.advance(3600_000);
    await harness.waitCaughtUp(connector, 120_000);
    await connector.stop();

    const after = await readAll(config.kafka.topics.cursors, { isolation: 'read_committed', deadlineMs: 30_000 });
    const resumed = after.filter((m) => m.key === cursorKey).at(-1)?.value;
    expect(resumed).not.toBeNull();
    // From the parked cursor on, not from the first-run lookback (7 days back).
    expect(Date.parse((JSON.parse(resumed ?? '{}') as { lowerBound: string }).lowerBound)).toBeGreaterThanOrEqual(Date.parse(parked?.lowerBound ?? ''));
    const events = await harness.readEvents();
    expect(events.length).toBeGreaterThan(eventsBefore);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  }, 300_000);
});
