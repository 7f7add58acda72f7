import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/simulator/index.ts';
import { apiTime, startTestSim, type TestSim } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, '../../../fixtures/tenants');
const SAMPLES = process.env['SAMPLES_DIR'] ?? join(import.meta.dirname, '../../../../shared/samples');
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;
let t: TestSim | undefined;
afterEach(async () => t?.close());

async function subscribe(tenant: string, token: string) {
  expect((await t!.feed(tenant, `subscriptions/start?contentType=Audit.SharePoint`, token, 'POST')).status).toBe(200);
}

async function listAll(tenant: string, token: string, start: number, end: number) {
  return (await t!.feed(tenant, `subscriptions/content?contentType=Audit.SharePoint&startTime=${apiTime(start)}&endTime=${apiTime(end)}`, token)).json() as { contentId: string; contentUri: string; contentCreated: string }[];
}

describe('recorded tenants (fixtures/README.md)', () => {
  it('replays the shipped tenant shifted so the newest blob is "now", with the late blob listed late', async () => {
    const clock = new ManualClock(NOW);
    t = await startTestSim({ clock, tenants: [], fixturesDir: FIXTURES });
    const tenant = t.sim.tenants.find((x) => x.name === 'fabrikamrec')!;
    expect(tenant).toMatchObject({ source: 'fixture', plan: 'E3' });
    const token = await t.token(tenant.id);
    await subscribe(tenant.id, token);
    const listed = await listAll(tenant.id, token, NOW - 6 * HOUR, NOW + HOUR);
    // blob-3 (created 30 min before the newest) waits 180 minutes: not listed yet.
    expect(listed.map((b) => b.contentCreated)).toEqual([NOW - 105 * 60_000, NOW - 75 * 60_000, NOW].map((ms) => new Date(ms).toISOString()));
    const first = await t.call('GET', listed[0]!.contentUri, { token });
    expect(first.text.startsWith('\uFEFF')).toBe(true);
    const records = first.json() as { Id: string }[];
    expect(records).toHaveLength(11);
    expect(new Set(records.map((r) => r.Id)).size).toBe(4);
    clock.advance(3 * HOUR);
    const later = await listAll(tenant.id, await t.token(tenant.id), NOW - 6 * HOUR, NOW + HOUR);
    expect(later).toHaveLength(4);
    expect(later[3]!.contentCreated).toBe(new Date(NOW - 30 * 60_000).toISOString());
    const truth = await t.sim.expectedRecords(tenant.id);
    expect(truth.blobs).toHaveLength(4);
    expect(truth.servedRecords).toBe(61);
  });

  it('runs on a compressed clock with speedFactor: time and token lifetimes scale, so late blobs come sooner', async () => {
    t = await startTestSim({ tenants: [], fixturesDir: FIXTURES, speedFactor: 3600 });
    const tenant = t.sim.tenants[0]!;
    const before = t.sim.clock.now();
    await new Promise((resolve) => setTimeout(resolve, 60));
    // 50 ms of wall clock are at least 50 × 3600 ms of simulator time.
    expect(t.sim.clock.now() - before).toBeGreaterThanOrEqual(50 * 3600);
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: t.sim.clientId, client_secret: t.sim.clientSecret, scope: t.sim.scope });
    const reply = await t.call('POST', t.sim.tokenUrl(tenant.id), { body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(reply.json()).toMatchObject({ expires_in: 3599 * 3600 });
    const recorded = t.sim.recordedBlobs(tenant.id)!;
    expect(recorded.map((b) => [b.file, (b.availableAt - b.contentCreated) / 60_000])).toEqual([['blobs/blob-1.json', 0], ['blobs/blob-2.json', 0], ['blobs/blob-3.json', 180], ['blobs/blob-4.json', 0]]);
    expect(recorded.reduce((n, b) => n + [...b.records()].length, 0)).toBe(61);
  });

  it.skipIf(!existsSync(SAMPLES))('replays the public samples from shared/samples unmodified (one blob per file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-samples-'));
    try {
      const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.json'));
      mkdirSync(join(dir, 'blobs'));
      const listing = files.map((f, i) => {
        writeFileSync(join(dir, 'blobs', f), readFileSync(join(SAMPLES, f)));
        return { contentId: `${String(i).padStart(12, '0')}$samples$${i}$04`, contentCreated: new Date(NOW - (files.length - i) * 60_000).toISOString(), file: `blobs/${f}` };
      });
      writeFileSync(join(dir, 'listing.json'), JSON.stringify(listing));
      writeFileSync(join(dir, 'tenant.json'), JSON.stringify({ tenantId: '11111111-2222-3333-4444-555555555555', name: 'samples' }));
      t = await startTestSim({ clock: new ManualClock(NOW), tenants: [], fixturesDir: dir });
      const id = t.sim.tenants[0]!.id;
      const token = await t.token(id);
      await subscribe(id, token);
      const listed = await listAll(id, token, NOW - HOUR, NOW + 60_000);
      expect(listed).toHaveLength(files.length);
      let total = 0;
      for (const b of listed) total += ((await t.call('GET', b.contentUri, { token })).json() as unknown[]).length;
      expect(total).toBe((await t.sim.expectedRecords(id)).servedRecords);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
