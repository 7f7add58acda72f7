import { afterEach, describe, expect, it } from 'vitest';
import { parseApiTime, resolveWindow } from '../../../src/simulator/api/time-window.ts';
import { ManualClock } from '../../../src/simulator/index.ts';
import { apiTime, startTestSim, type TestSim } from './helpers.ts';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
let t: TestSim | undefined;
afterEach(async () => t?.close());

async function subscribed(options: Parameters<typeof startTestSim>[0] = {}) {
  t = await startTestSim({ clock: new ManualClock(NOW), tenants: [{ subscribed: ['Audit.SharePoint'], eventsPerHour: 120 }], ...options });
  const tenant = t.sim.tenants[0]!.id;
  return { tenant, token: await t.token(tenant) };
}

function content(start?: number | string, end?: number | string, extra = '&PublisherIdentifier=pub'): string {
  const s = start === undefined ? '' : `&startTime=${typeof start === 'number' ? apiTime(start) : start}`;
  const e = end === undefined ? '' : `&endTime=${typeof end === 'number' ? apiTime(end) : end}`;
  return `subscriptions/content?contentType=Audit.SharePoint${s}${e}${extra}`;
}

describe('listing window rules (o365-api.md §1.7 [DOC REF], AF20055 status 400 [OBS WZ])', () => {
  it('parses the documented formats and the observed Z / fractional forms', () => {
    expect(parseApiTime('2026-01-15')).toBe(Date.UTC(2026, 0, 15));
    expect(parseApiTime('2026-01-15T10:20')).toBe(Date.UTC(2026, 0, 15, 10, 20));
    expect(parseApiTime('2026-01-15T10:20:30')).toBe(Date.UTC(2026, 0, 15, 10, 20, 30));
    expect(parseApiTime('2026-01-15T10:20:30Z')).toBe(Date.UTC(2026, 0, 15, 10, 20, 30));
    expect(parseApiTime('2026-01-15T10:20:30.123456789Z')).toBe(Date.UTC(2026, 0, 15, 10, 20, 30, 123));
    expect(parseApiTime('2026-02-30')).toBeUndefined();
    expect(parseApiTime('yesterday')).toBeUndefined();
  });

  it('pure rules: one bound, start ≥ end, > 24 h, start older than 7 days → AF20055; omitted → last 24 h', () => {
    expect(resolveWindow('2026-01-15T00:00', undefined, NOW)).toMatchObject({ ok: false, code: 'AF20055' });
    expect(resolveWindow(undefined, '2026-01-15T00:00', NOW)).toMatchObject({ ok: false, code: 'AF20055' });
    expect(resolveWindow('2026-01-15T10:00', '2026-01-15T10:00', NOW)).toMatchObject({ ok: false });
    expect(resolveWindow('2026-01-15T11:00', '2026-01-15T10:00', NOW)).toMatchObject({ ok: false });
    expect(resolveWindow('2026-01-14T09:59', '2026-01-15T10:00', NOW)).toMatchObject({ ok: false });
    expect(resolveWindow('2026-01-14T10:00', '2026-01-15T10:00', NOW)).toMatchObject({ ok: true });
    expect(resolveWindow('2026-01-08T11:59', '2026-01-09T00:00', NOW)).toMatchObject({ ok: false });
    expect(resolveWindow('2026-01-08T12:00', '2026-01-09T00:00', NOW)).toMatchObject({ ok: true });
    expect(resolveWindow('2026-01-15T11:00', '2026-01-16T11:00', NOW)).toMatchObject({ ok: true });
    expect(resolveWindow(undefined, undefined, NOW)).toEqual({ ok: true, startMs: NOW - 24 * HOUR, endMs: NOW, explicit: false });
  });

  it('the API answers each bad window with HTTP 400 AF20055 and accepts each documented format', async () => {
    const { tenant, token } = await subscribed();
    for (const path of [content(NOW - HOUR), content(NOW, NOW - HOUR), content(NOW - 25 * HOUR, NOW), content(NOW - 7 * 24 * HOUR - 60_000, NOW - 7 * 24 * HOUR + HOUR)]) {
      const res = await t!.feed(tenant, path, token);
      expect(res.status, path).toBe(400);
      expect(res.json().error.code).toBe('AF20055');
    }
    for (const [s, e] of [['2026-01-15', '2026-01-15T11:00'], ['2026-01-15T01:00', '2026-01-15T11:00'], ['2026-01-15T01:00:00Z', '2026-01-15T11:00:00.000Z']] as const) {
      expect((await t!.feed(tenant, content(s, e), token)).status).toBe(200);
    }
  });

  it('filters on contentCreated with an inclusive start and an exclusive end', async () => {
    const { tenant, token } = await subscribed();
    const all = (await t!.feed(tenant, content(NOW - 12 * HOUR, NOW), token)).json() as { contentCreated: string }[];
    const pivot = all[3]!.contentCreated;
    const from = (await t!.feed(tenant, content(pivot, NOW), token)).json() as { contentCreated: string }[];
    const until = (await t!.feed(tenant, content(NOW - 12 * HOUR, pivot), token)).json() as { contentCreated: string }[];
    expect(from.map((b) => b.contentCreated)).toContain(pivot);
    expect(until.map((b) => b.contentCreated)).not.toContain(pivot);
    expect(from.length + until.length).toBe(all.length);
  });
});

describe('paging through NextPageUri (o365-api.md §1.7 [DOC REF]; lower-cased names [OBS filebeat-o365.md §1.9, integrations#15325])', () => {
  async function follow(tenant: string, token: string, first: string) {
    const items: { contentId: string }[] = [];
    const uris: string[] = [];
    let res = await t!.feed(tenant, first, token);
    for (;;) {
      expect(res.status).toBe(200);
      items.push(...(res.json() as { contentId: string }[]));
      const next = res.headers['nextpageuri'] as string | undefined;
      if (!next) break;
      uris.push(next);
      res = await t!.call('GET', `${next}&PublisherIdentifier=pub`, { token });
    }
    return { items, uris };
  }

  it('pages with the configured size and covers the window exactly once, some pages with lower-cased names', async () => {
    const { tenant, token } = await subscribed({ pageSize: 3, lowercaseNextPageProbability: 0.5 });
    const { items, uris } = await follow(tenant, token, content(NOW - 24 * HOUR, NOW));
    const truth = await t!.sim.expectedRecords(tenant, { sinceContentCreated: NOW - 24 * HOUR, untilContentCreated: NOW });
    expect(items.map((i) => i.contentId).sort()).toEqual(truth.blobs.map((b) => b.contentId).sort());
    expect(new Set(items.map((i) => i.contentId)).size).toBe(items.length);
    expect(uris.length).toBeGreaterThan(5);
    expect(uris.some((u) => u.includes('nextpage=') && u.includes('starttime='))).toBe(true);
    expect(uris.some((u) => u.includes('nextPage=') && u.includes('startTime='))).toBe(true);
    expect(uris.every((u) => u.startsWith(`${t!.sim.baseUrl}/api/v1.0/${tenant}/activity/feed/subscriptions/content?`))).toBe(true);
  });

  it('without bounds the NextPageUri carries the 24-hour window of the first request [DOC REF §1.7]', async () => {
    const { tenant, token } = await subscribed({ pageSize: 2, lowercaseNextPageProbability: 0 });
    const res = await t!.feed(tenant, content(), token);
    const next = new URL(res.headers['nextpageuri'] as string);
    expect(Date.parse(next.searchParams.get('startTime')!)).toBe(NOW - 24 * HOUR);
    expect(Date.parse(next.searchParams.get('endTime')!)).toBe(NOW);
  });

  it('an invalid nextPage answers AF20031 [DOC REF §1.7]', async () => {
    const { tenant, token } = await subscribed();
    const res = await t!.feed(tenant, `${content(NOW - HOUR, NOW)}&nextPage=bogus`, token);
    expect(res.json().error.code).toBe('AF20031');
  });

  it('faults: looping NextPageUri, empty pages with NextPageUri, foreign hosts in contentUri and NextPageUri', async () => {
    const { tenant, token } = await subscribed({ pageSize: 2 });
    t!.sim.faults.set(tenant, { loopingNextPage: true });
    const first = await t!.feed(tenant, content(NOW - 6 * HOUR, NOW), token);
    const loop = first.headers['nextpageuri'] as string;
    const second = await t!.call('GET', loop, { token });
    expect(second.headers['nextpageuri']).toBe(loop);
    expect(second.json()).toEqual(first.json());
    t!.sim.faults.set(tenant, { loopingNextPage: undefined, emptyPagesWithNextPage: { count: 2 } });
    const empty = await t!.feed(tenant, content(NOW - 6 * HOUR, NOW), token);
    expect(empty.json()).toEqual([]);
    expect(empty.headers['nextpageuri']).toBeTruthy();
    expect((await t!.call('GET', empty.headers['nextpageuri'] as string, { token })).json()).toEqual([]);
    expect((await t!.call('GET', empty.headers['nextpageuri'] as string, { token })).json().length).toBe(2);
    t!.sim.faults.set(tenant, { foreignContentUriOrigin: 'https://evil.example.invalid', foreignNextPageUriOrigin: 'https://evil.example.invalid' });
    const foreign = await t!.feed(tenant, content(NOW - 6 * HOUR, NOW), token);
    expect(foreign.json()[0].contentUri).toMatch(/^https:\/\/evil\.example\.invalid\/api\/v1\.0\//);
    expect(foreign.headers['nextpageuri']).toMatch(/^https:\/\/evil\.example\.invalid\//);
  });
});
