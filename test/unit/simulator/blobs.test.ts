import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/simulator/index.ts';
import { apiTime, startTestSim, type TestSim } from './helpers.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
let t: TestSim | undefined;
afterEach(async () => t?.close());

interface Listed { contentId: string; contentUri: string; contentCreated: string }

async function setup(options: Parameters<typeof startTestSim>[0] = {}, clock = new ManualClock(NOW)) {
  t = await startTestSim({ clock, seed: 7, tenants: [{ subscribed: ['Audit.SharePoint'], eventsPerHour: 200 }], ...options });
  const tenant = t.sim.tenants[0]!.id;
  return { tenant, token: await t.token(tenant), clock };
}

async function list(tenant: string, token: string, start: number, end: number): Promise<Listed[]> {
  const out: Listed[] = [];
  let res = await t!.feed(tenant, `subscriptions/content?contentType=Audit.SharePoint&startTime=${apiTime(start)}&endTime=${apiTime(end)}&PublisherIdentifier=p`, token);
  for (;;) {
    out.push(...(res.json() as Listed[]));
    const next = res.headers['nextpageuri'] as string | undefined;
    if (!next) return out;
    res = await t!.call('GET', next, { token });
  }
}

async function download(uri: string, token: string) {
  return t!.call('GET', `${uri}?PublisherIdentifier=p`, { token });
}

describe('content blobs (o365-api.md §1.8, §2.5, §2.6)', () => {
  it('serves JSON arrays with the documented Content-Type; some start with a UTF-8 BOM [OBS beats#44327]', async () => {
    const { tenant, token } = await setup({ bomFraction: 0.2 });
    const listed = await list(tenant, token, NOW - 6 * HOUR, NOW);
    let boms = 0;
    for (const item of listed.slice(0, 15)) {
      const res = await download(item.contentUri, token);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      if (res.text.startsWith('\uFEFF')) boms++;
      expect(Array.isArray(res.json())).toBe(true);
    }
    expect(boms).toBeGreaterThan(0);
    expect(boms).toBeLessThan(15);
  });

  it('has duplicate Ids within and across blobs [DOC TRB §2.6] and CreationTime unsorted, older than contentCreated [DOC REF §1.7]', async () => {
    const { tenant, token } = await setup();
    const listed = await list(tenant, token, NOW - 12 * HOUR, NOW);
    const seenIn = new Map<string, Set<string>>();
    let within = 0;
    let unsorted = 0;
    for (const item of listed) {
      const records = (await download(item.contentUri, token)).json() as { Id: string; CreationTime: string }[];
      const ids = records.map((r) => r.Id);
      if (new Set(ids).size < ids.length) within++;
      for (const id of ids) seenIn.set(id, (seenIn.get(id) ?? new Set()).add(item.contentId));
      const times = records.map((r) => r.CreationTime);
      if (times.join() !== [...times].sort().join()) unsorted++;
      for (const r of records) {
        expect(r.CreationTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
        expect(Date.parse(`${r.CreationTime}Z`)).toBeLessThan(Date.parse(item.contentCreated));
      }
    }
    expect(within).toBeGreaterThan(0);
    expect([...seenIn.values()].some((blobs) => blobs.size > 1)).toBe(true);
    expect(unsorted).toBeGreaterThan(0);
  });

  it('lists some blobs only after a delay past contentCreated [DOC TRB §2.5 "typically 60 to 90 minutes", late blobs]', async () => {
    const { tenant, token, clock } = await setup({ tenants: [{ subscribed: ['Audit.SharePoint'], eventsPerHour: 200, lateFraction: 0.5 }] });
    const window = [NOW - 2 * HOUR, NOW] as const;
    const before = new Set((await list(tenant, token, ...window)).map((b) => b.contentId));
    clock.advance(4 * HOUR);
    const after = await list(tenant, await t!.token(tenant), ...window);
    const late = after.filter((b) => !before.has(b.contentId));
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((b) => Date.parse(b.contentCreated) < NOW)).toBe(true);
  });

  it('AF20051 once contentCreated + 7 days has passed (moved clock); AF20050 (404) for an unknown id [DOC REF §1.8, §2.5]', async () => {
    const { tenant, token, clock } = await setup();
    const [first] = await list(tenant, token, NOW - 2 * HOUR, NOW);
    expect((await download(first!.contentUri, token)).status).toBe(200);
    clock.set(Date.parse(first!.contentCreated) + 7 * DAY);
    const token2 = await t!.token(tenant);
    const expired = await download(first!.contentUri, token2);
    expect(expired.status).toBe(400);
    expect(expired.json().error.code).toBe('AF20051');
    const missing = await download(first!.contentUri.replace(/\$04$/, '$05'), token2);
    expect(missing.status).toBe(404);
    expect(missing.json().error.code).toBe('AF20050');
  });

  it('contentIds contain `$` and the listing entry has the documented fields [DOC REF §1.7, §1.8]', async () => {
    const { tenant, token } = await setup();
    const res = await t!.feed(tenant, `subscriptions/content?contentType=Audit.SharePoint&startTime=${apiTime(NOW - HOUR)}&endTime=${apiTime(NOW)}`, token);
    const [item] = res.json() as (Listed & { contentExpiration: string })[];
    if (!item) throw new Error('empty listing');
    expect(Object.keys(item).sort()).toEqual(['contentCreated', 'contentExpiration', 'contentId', 'contentType', 'contentUri']);
    expect(item.contentId).toContain('$');
    expect(item.contentUri).toBe(`${t!.sim.baseUrl}/api/v1.0/${tenant}/activity/feed/audit/${item.contentId}`);
    expect(Date.parse(item.contentExpiration) - Date.parse(item.contentCreated)).toBe(7 * DAY);
    expect(item.contentCreated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('is deterministic for a seed: same listing and byte-identical blobs across runs; another seed differs', async () => {
    const snapshot = async (seed: number) => {
      const { tenant, token } = await setup({ seed });
      const listed = await list(tenant, token, NOW - 3 * HOUR, NOW);
      const bodies = [];
      for (const item of listed.slice(0, 4)) bodies.push((await download(item.contentUri, token)).text);
      bodies.push((await download(listed[0]!.contentUri, token)).text);
      await t!.close();
      t = undefined;
      return { tenant, ids: listed.map((b) => b.contentId), bodies };
    };
    const a = await snapshot(7);
    const b = await snapshot(7);
    const c = await snapshot(8);
    expect(b).toEqual(a);
    expect(a.bodies[4]).toBe(a.bodies[0]);
    expect(c.ids).not.toEqual(a.ids);
  });

  it('ground truth equals the unique records a client collects by listing and downloading everything', async () => {
    const { tenant, token } = await setup();
    const listed = await list(tenant, token, NOW - 24 * HOUR, NOW);
    const collected = new Map<string, string>();
    for (const item of listed) for (const r of (await download(item.contentUri, token)).json() as { Id: string; Operation: string }[]) collected.set(r.Id, r.Operation);
    const truth = await t!.sim.expectedRecords(tenant, { sinceContentCreated: NOW - 24 * HOUR });
    expect(new Set(truth.records.keys())).toEqual(new Set(collected.keys()));
    expect([...truth.records.values()].every((r) => collected.get(r.id) === r.operation)).toBe(true);
    expect(truth.servedRecords).toBeGreaterThan(truth.records.size);
  });
});
