import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/simulator/index.ts';
import { Throttle } from '../../../src/simulator/throttle.ts';
import { startTestSim, type TestSim } from './helpers.ts';

let t: TestSim | undefined;
afterEach(async () => t?.close());

const LIST = 'subscriptions/list';

describe('throttling (o365-api.md §2.4 quota [DOC REF]; AF429 shape [DOC TRB §2.2]; Retry-After UNCERTAIN §6.2)', () => {
  it('pure: sliding window admits `quota` per rolling minute; fixed window resets on the minute', () => {
    const sliding = new Throttle('sliding');
    expect(sliding.admit('p', 2, 0).allowed).toBe(true);
    expect(sliding.admit('p', 2, 30_000).allowed).toBe(true);
    expect(sliding.admit('p', 2, 59_000)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(sliding.admit('p', 2, 60_000).allowed).toBe(true);
    const fixed = new Throttle('fixed');
    expect(fixed.admit('p', 1, 10_000).allowed).toBe(true);
    expect(fixed.admit('p', 1, 50_000)).toEqual({ allowed: false, retryAfterSeconds: 10 });
    expect(fixed.admit('p', 1, 60_000).allowed).toBe(true);
  });

  for (const [style, status, retryAfter] of [['403', 403, undefined], ['429', 429, undefined], ['429-retry-after', 429, '60']] as const) {
    it(`answers past the quota with AF429 as HTTP ${status}${retryAfter ? ' + Retry-After' : ''} (style ${style})`, async () => {
      const clock = new ManualClock();
      t = await startTestSim({ clock, quotaPerMinute: 5, throttleStyle: style });
      const tenant = t.sim.tenants[0]!.id;
      const token = await t.token(tenant);
      for (let i = 0; i < 5; i++) expect((await t.feed(tenant, `${LIST}?PublisherIdentifier=pub-1`, token)).status).toBe(200);
      const res = await t.feed(tenant, `${LIST}?PublisherIdentifier=pub-1`, token);
      expect(res.status).toBe(status);
      expect(res.json().error).toEqual({ code: 'AF429', message: 'Too many requests. Method=ListSubscriptions, PublisherId=pub-1' });
      expect(res.headers['retry-after']).toBe(retryAfter);
      clock.advance(60_000);
      expect((await t.feed(tenant, `${LIST}?PublisherIdentifier=pub-1`, token)).status).toBe(200);
    });
  }

  it('requests without PublisherIdentifier share one global pool across tenants (PublisherId 00000000-…) [DOC TRB §1.2]', async () => {
    t = await startTestSim({ clock: new ManualClock(), tenants: 2, quotaPerMinute: 100, globalQuotaPerMinute: 4 });
    const [a, b] = t.sim.tenants.map((x) => x.id) as [string, string];
    const [ta, tb] = [await t.token(a), await t.token(b)];
    for (let i = 0; i < 2; i++) {
      expect((await t.feed(a, LIST, ta)).status).toBe(200);
      expect((await t.feed(b, LIST, tb)).status).toBe(200);
    }
    const res = await t.feed(a, LIST, ta);
    expect(res.status).toBe(403);
    expect(res.json().error.message).toBe('Too many requests. Method=ListSubscriptions, PublisherId=00000000-0000-0000-0000-000000000000');
    // Tenants that send a PublisherIdentifier (any casing of the name) are unaffected.
    expect((await t.feed(a, `${LIST}?publisheridentifier=vendor`, ta)).status).toBe(200);
    expect(t.sim.stats.count({ tenantId: a, withPublisherIdentifier: true })).toBe(1);
  });

  it('the throttled scenario has a low quota; blob downloads say Method=GetBlob', async () => {
    t = await startTestSim({ clock: new ManualClock(), tenants: [{ scenario: 'throttled', subscribed: ['Audit.SharePoint'] }], throttledQuotaPerMinute: 2 });
    const tenant = t.sim.tenants[0]!.id;
    const token = await t.token(tenant);
    const listing = (await t.feed(tenant, 'subscriptions/content?contentType=Audit.SharePoint&PublisherIdentifier=p', token)).json();
    expect((await t.call('GET', `${listing[0].contentUri}?PublisherIdentifier=p`, { token })).status).toBe(200);
    const res = await t.call('GET', `${listing[1].contentUri}?PublisherIdentifier=p`, { token });
    expect(res.json().error.message).toBe('Too many requests. Method=GetBlob, PublisherId=p');
  });

  it('a throttle fault answers the next N requests with AF429 whatever the quota', async () => {
    t = await startTestSim({ clock: new ManualClock() });
    const tenant = t.sim.tenants[0]!.id;
    const token = await t.token(tenant);
    t.sim.faults.set(tenant, { throttle: { count: 2 } });
    expect((await t.feed(tenant, LIST, token)).json().error.code).toBe('AF429');
    expect((await t.feed(tenant, LIST, token)).json().error.code).toBe('AF429');
    expect((await t.feed(tenant, LIST, token)).status).toBe(200);
  });
});
