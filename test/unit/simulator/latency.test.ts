import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/simulator/index.ts';
import { LatencyModel } from '../../../src/simulator/latency.ts';
import { apiTime, startTestSim, type TestSim } from './helpers.ts';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
let t: TestSim | undefined;
afterEach(async () => t?.close());

async function setup(options: Parameters<typeof startTestSim>[0] = {}) {
  t = await startTestSim({ clock: new ManualClock(NOW), seed: 7, tenants: [{ subscribed: ['Audit.SharePoint'], eventsPerHour: 200 }], ...options });
  const tenant = t.sim.tenants[0]!.id;
  return { tenant, token: await t.token(tenant) };
}

async function listing(tenant: string, token: string): Promise<{ ms: number; items: { contentUri: string }[] }> {
  const started = performance.now();
  const res = await t!.feed(tenant, `subscriptions/content?contentType=Audit.SharePoint&startTime=${apiTime(NOW - 6 * HOUR)}&endTime=${apiTime(NOW)}&PublisherIdentifier=p`, token);
  expect(res.status).toBe(200);
  return { ms: performance.now() - started, items: res.json() as { contentUri: string }[] };
}

describe('latency model (optional, seeded)', () => {
  it('draws the same seeded delays for the same seed, with the configured medians per endpoint', () => {
    const a = new LatencyModel({ listingMedianMs: 300, blobFirstByteMedianMs: 100, spread: 0.5 }, 's');
    const b = new LatencyModel({ listingMedianMs: 300, blobFirstByteMedianMs: 100, spread: 0.5 }, 's');
    const listings = Array.from({ length: 2001 }, () => a.firstByteMs('subscriptions-content'));
    expect(Array.from({ length: 2001 }, () => b.firstByteMs('subscriptions-content'))).toEqual(listings);
    const median = (values: number[]): number => [...values].sort((x, y) => x - y)[values.length >> 1] ?? 0;
    expect(median(listings)).toBeGreaterThan(270);
    expect(median(listings)).toBeLessThan(330);
    expect(median(Array.from({ length: 2001 }, () => a.firstByteMs('blob')))).toBeLessThan(115);
    const fixed = new LatencyModel({ blobFirstByteMedianMs: 40, spread: 0 }, 's');
    expect(fixed.firstByteMs('blob')).toBe(40);
  });

  it('delays listings and blob first bytes by the model, and paces a blob body to the bandwidth', async () => {
    const { tenant, token } = await setup({ latency: { listingMedianMs: 250, blobFirstByteMedianMs: 150, spread: 0, blobBytesPerSecond: 200_000 } });
    const { ms, items } = await listing(tenant, token);
    expect(ms).toBeGreaterThanOrEqual(245);
    const started = performance.now();
    const res = await t!.call('GET', `${items[0]!.contentUri}?PublisherIdentifier=p`, { token });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    const bytes = Buffer.byteLength(res.text);
    // First byte after 150 ms, then the body at 200 kB/s (the last 64 KiB slice may end early).
    expect(elapsed).toBeGreaterThanOrEqual(145 + Math.max(0, (bytes - 65_536) / 200));
  });

  it('serves blob bodies from memory byte for byte as generated, and pregenerates them', async () => {
    const plain = await setup();
    const { items } = await listing(plain.tenant, plain.token);
    const generated = await Promise.all(items.slice(0, 5).map(async (item) => (await t!.call('GET', `${item.contentUri}?PublisherIdentifier=p`, { token: plain.token })).text));
    await t!.close();
    const cached = await setup({ blobBodiesInMemory: true });
    expect(t!.sim.pregenerateBlobs()).toBeGreaterThan(0);
    const again = await listing(cached.tenant, cached.token);
    expect(again.items.map((i) => i.contentUri.replace(/^https:\/\/[^/]+/, ''))).toEqual(items.map((i) => i.contentUri.replace(/^https:\/\/[^/]+/, '')));
    for (const [i, item] of again.items.slice(0, 5).entries()) {
      expect((await t!.call('GET', `${item.contentUri}?PublisherIdentifier=p`, { token: cached.token })).text).toBe(generated[i]);
    }
  });
});
