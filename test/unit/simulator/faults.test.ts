import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { ManualClock } from '../../../src/simulator/index.ts';
import { apiTime, startTestSim, type TestSim } from './helpers.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
let t: TestSim | undefined;
afterEach(async () => t?.close());

async function setup(options: Parameters<typeof startTestSim>[0] = {}) {
  t = await startTestSim({ clock: new ManualClock(NOW), tenants: [{ subscribed: ['Audit.SharePoint'], eventsPerHour: 600, recordsPerBlob: 60 }], ...options });
  const tenant = t.sim.tenants[0]!.id;
  const token = await t.token(tenant);
  const listing = (await t.feed(tenant, `subscriptions/content?contentType=Audit.SharePoint&startTime=${apiTime(NOW - 3_600_000)}&endTime=${apiTime(NOW)}`, token)).json() as { contentUri: string }[];
  return { tenant, token, uri: listing[0]!.contentUri };
}

describe('fault injection (per tenant, at runtime)', () => {
  it('a burst of N AF50000 500 answers, then normal service [AF50000 500 OBS §2.2]', async () => {
    const { tenant, token } = await setup();
    t!.sim.faults.set(tenant, { serverErrors: { count: 2, endpoints: ['subscriptions-list'] } });
    const first = await t!.feed(tenant, 'subscriptions/list', token);
    expect(first.status).toBe(500);
    expect(first.json().error.code).toBe('AF50000');
    expect((await t!.feed(tenant, 'subscriptions/list', token)).status).toBe(500);
    expect((await t!.feed(tenant, 'subscriptions/list', token)).status).toBe(200);
    expect(t!.sim.faults.get(tenant).serverErrors?.count).toBe(0);
  });

  it('slow responses', async () => {
    const { tenant, token } = await setup();
    t!.sim.faults.set(tenant, { delay: { ms: 300 } });
    const started = Date.now();
    expect((await t!.feed(tenant, 'subscriptions/list', token)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('a connection reset after K bytes of a blob', async () => {
    const { tenant, token, uri } = await setup();
    t!.sim.faults.set(tenant, { resetBlobs: { count: 1, afterBytes: 500 } });
    const agent = new Agent({ connect: { ca: t!.sim.caPem } });
    let received = 0;
    const failure = await (async () => {
      const res = await request(uri, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
      for await (const chunk of res.body) received += (chunk as Buffer).length;
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(received).toBeLessThanOrEqual(500);
    await agent.close();
    expect((await t!.call('GET', uri, { token })).status).toBe(200);
  });

  it('a truncated blob: valid HTTP 200, JSON cut off', async () => {
    const { tenant, token, uri } = await setup();
    t!.sim.faults.set(tenant, { truncateBlobs: { count: 1, afterBytes: 700 } });
    const res = await t!.call('GET', uri, { token });
    expect(res.status).toBe(200);
    expect(Buffer.byteLength(res.text)).toBe(700);
    expect(() => {
      res.json();
    }).toThrow();
  });

  it('malformed JSON in the middle of a blob; records before and after stay intact', async () => {
    const { tenant, token, uri } = await setup();
    const clean = (await t!.call('GET', uri, { token })).text.replace(/^\uFEFF/, '');
    t!.sim.faults.set(tenant, { malformedBlobs: { count: 1 } });
    const broken = (await t!.call('GET', uri, { token })).text.replace(/^\uFEFF/, '');
    expect(() => JSON.parse(broken) as unknown).toThrow();
    const cleanRecords = JSON.parse(clean) as unknown[];
    expect(broken.startsWith(clean.slice(0, 200))).toBe(true);
    expect(broken.endsWith(clean.slice(-200))).toBe(true);
    expect(cleanRecords.length).toBeGreaterThan(2);
  });

  it('tokens that expire quickly, per tenant', async () => {
    const { tenant } = await setup();
    t!.sim.faults.set(tenant, { tokenLifetimeSeconds: 5 });
    const claims = decodeJwt(await t!.token(tenant));
    expect(claims.exp! - claims.iat!).toBe(5);
  });

  it('counts requests per endpoint and tenant, with bearer and PublisherIdentifier flags', async () => {
    const { tenant, token, uri } = await setup();
    await t!.call('GET', `${uri}?PublisherIdentifier=p`, { token });
    await t!.call('GET', uri);
    const stats = t!.sim.stats.byTenant(tenant);
    expect(stats.byEndpoint).toMatchObject({ token: 1, 'subscriptions-content': 1, blob: 2 });
    expect(t!.sim.stats.count({ endpoint: 'blob', bearer: false })).toBe(1);
    expect(t!.sim.stats.count({ endpoint: 'blob', withPublisherIdentifier: true, status: 200 })).toBe(1);
    expect(t!.sim.stats.requests.at(-1)).toMatchObject({ endpoint: 'blob', status: 401, bearer: false });
  });

  it('the faulty scenario mixes 5xx answers and persistent malformed records (seeded), reported in ground truth', async () => {
    t = await startTestSim({ clock: new ManualClock(NOW), tenants: [{ scenario: 'faulty', subscribed: ['Audit.SharePoint'], eventsPerHour: 200 }] });
    const tenant = t.sim.tenants[0]!.id;
    const token = await t.token(tenant);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await t.feed(tenant, 'subscriptions/list', token)).status);
    expect(statuses).toContain(500);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(25);
    const truth = await t.sim.expectedRecords(tenant);
    expect(truth.corruptedRecordIds.size).toBeGreaterThan(0);
    for (const id of truth.corruptedRecordIds) expect(truth.records.has(id)).toBe(false);
  });
});
