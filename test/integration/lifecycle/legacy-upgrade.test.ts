import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/simulator/index.ts';
import { normalize } from '../../../src/transform/normalize/index.ts';
import { readAll } from '../../support/kafka.ts';
import { harnessPerTest } from '../../support/pipeline-harness.ts';
import { waitFor } from '../../support/time.ts';

const TOKEN = 'upgrade-admin-token';
const HOUR = 3_600_000;

/**
 * Upgrade from the legacy connector during a backlog (docs/lifecycle.md): the legacy position is in
 * the middle of 24 h of content; collection starts exactly there — every event after it once, none
 * before it, none of the blobs the legacy connector named as collected.
 */
describe('upgrade from the legacy connector', () => {
  const startHarness = harnessPerTest();

  it('collects every event after the legacy position once and none before, in Maintenance, and a second import is a no-op', async () => {
    const clock = new ManualClock(Date.now());
    const harness = await startHarness({ simulator: { seed: 'upgrade', clock, eventsPerHour: 40, tenants: [{ historyHours: 24, subscribed: ['Audit.SharePoint'] }] } });
    const sim = harness.sim;
    const tenant = sim.tenants[0]!.id;
    const position = clock.now() - 12 * HOUR;
    const after = await sim.expectedRecords(tenant, { sinceContentCreated: position });
    const before = await sim.expectedRecords(tenant, { untilContentCreated: position });
    const legacyDone = [...after.blobs].sort((a, b) => a.contentCreated.localeCompare(b.contentCreated)).slice(0, 2);
    expect(legacyDone).toHaveLength(2);
    const inLegacyDone = new Set<string>();
    for (const blob of legacyDone) {
      const created = Date.parse(blob.contentCreated);
      for (const id of (await sim.expectedRecords(tenant, { sinceContentCreated: created, untilContentCreated: created + 1 })).records.keys()) inLegacyDone.add(id);
    }
    // Blobs after the legacy connector's last ones: a record can repeat in the next blob (the simulator
    // copies a blob's last record into the next one, as Microsoft does), so such a copy may arrive.
    const lastLegacyCreated = Date.parse(legacyDone[1]!.contentCreated);
    const afterLegacyDone = await sim.expectedRecords(tenant, { sinceContentCreated: lastLegacyCreated + 1 });
    const isEvent = (json: string) => normalize(JSON.parse(json.replace(/^\uFEFF/, '')), { tenantId: tenant, now: () => new Date() }).kind === 'event';
    // Ids only in blobs after the position (and not in the legacy connector's last blobs) must arrive once;
    // ids only before it, or only in those last blobs, never. Ids on both sides are allowed either way.
    const required = new Set([...after.records].filter(([id, r]) => !before.records.has(id) && !inLegacyDone.has(id) && isEvent(r.json)).map(([id]) => id));
    const forbidden = new Set([
      ...[...before.records.keys()].filter((id) => !after.records.has(id)),
      ...[...inLegacyDone].filter((id) => !required.has(id) && !afterLegacyDone.records.has(id)),
    ]);
    expect(required.size).toBeGreaterThan(50);
    expect(forbidden.size).toBeGreaterThan(50);

    const admin = await harness.startAdminConnector({ token: TOKEN, tenants: [] });
    const connector = admin.connector;
    const config = harness.config;
    const importBody = {
      tenant,
      displayName: 'Legacy tenant',
      lastCollectedTime: new Date(position).toISOString(),
      lastContentIds: legacyDone.map((b) => b.contentId),
      window: { from: new Date(Date.now() - 60_000).toISOString(), to: new Date(Date.now() + HOUR).toISOString() },
    };
    const post = async (body: unknown) => {
      const answer = await admin.api('POST', '/tenants/import', body);
      return { status: answer.status, body: answer.body as unknown as { imported: boolean; tenant: { status: { state: string } } } };
    };
    const first = await post(importBody);
    expect(first.status).toBe(201);
    expect(first.body.tenant.status.state).toBe('Maintenance');
    await waitFor(() => harness.caughtUp(connector) === true && connector.progress()[tenant]?.listedUpToMs !== undefined, { timeoutMs: 120_000, intervalMs: 200, what: 'the upgraded tenant to catch up' });
    expect(connector.connections()[tenant]?.state).toBe('Maintenance');
    const second = await post({ ...importBody, lastContentIds: [] });
    expect(second).toMatchObject({ status: 200, body: { imported: false } });
    await connector.stop();

    const events = await readAll(config.kafka.topics.events, { isolation: 'read_committed', deadlineMs: 60_000 });
    const counts = new Map<string, number>();
    for (const m of events) counts.set(m.key ?? '', (counts.get(m.key ?? '') ?? 0) + 1);
    expect([...required].filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect([...forbidden].filter((id) => counts.has(id))).toEqual([]);
  }, 240_000);
});
