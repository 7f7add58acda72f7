import { describe, expect, it } from 'vitest';
import type { Connector } from '../../../src/runtime/connector.ts';
import { ManualClock } from '../../../src/simulator/index.ts';
import { harnessPerTest } from '../../support/pipeline-harness.ts';
import { waitFor } from '../../support/time.ts';

const H = 3_600_000;

async function total(connector: Connector, metric: 'lateBlobs' | 'sweeps', labels: Record<string, string> = {}): Promise<number> {
  const { values } = await connector.metrics[metric].get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want)).reduce((a, v) => a + v.value, 0);
}

/**
 * Issue 12 end to end: the simulator's late tail lists some blobs 6 h, 24 h and 3 days after their
 * contentCreated, far past the 4 h overlap. The simulator clock stands still while the backlog is
 * collected, then moves 2 h: the tail blobs that became listable in those 2 h lie where the live
 * poller will never list again, so only the sweep can collect them — across a restart in the
 * middle of the sweep, with the digests read back from Kafka.
 */
describe('reconciliation sweep end to end (simulator late tail → connector → real Kafka)', () => {
  const startHarness = harnessPerTest();

  it.each(['exactly-once', 'at-least-once'] as const)('%s: collects every blob listed late, exactly once, across a restart mid-sweep', async (mode) => {
    const clock = new ManualClock(Date.now());
    const t0 = clock.now();
    const harness = await startHarness({
      deliveryMode: mode,
      // Every blob in the tail: the two hours below release enough of them wherever the generated history
      // falls against the wall clock (with half of them, some hours of the day released only one).
      simulator: { seed: `late-${mode}`, tenants: 1, clock, eventsPerHour: 120, lateTail: { fraction: 1 } },
      connector: { sweep: { enabled: true, intervalMinutes: 0.2, startupSpreadSeconds: 1, maxConcurrentBlobs: 1 } },
    });
    const tenant = harness.sim.tenants[0]?.id ?? '';
    const first = await harness.startConnector();
    await harness.waitCaughtUp(first, 150_000);
    await waitFor(async () => (await total(first, 'sweeps', { outcome: 'completed' })) >= 1, { timeoutMs: 60_000, what: 'a first sweep' });
    expect(await total(first, 'lateBlobs')).toBe(0);

    // Two hours pass at Microsoft: some tail blobs become listable, far behind the live overlap.
    clock.advance(2 * H);
    const truth = await harness.sim.expectedRecords(tenant);
    const released = truth.blobs.filter((b) => Date.parse(b.availableAt) > t0 && Date.parse(b.availableAt) - Date.parse(b.contentCreated) >= 6 * H);
    expect(released.length).toBeGreaterThan(2);

    await waitFor(async () => (await total(first, 'lateBlobs')) >= 1, { timeoutMs: 60_000, what: 'the sweep to collect a first late blob' });
    const { drained } = await first.stop();
    expect(drained).toBe(true);
    const foundFirst = await total(first, 'lateBlobs');

    const second = await harness.startConnector();
    await harness.waitCaughtUp(second, 150_000);
    await waitFor(async () => foundFirst + (await total(second, 'lateBlobs')) >= released.length && (await total(second, 'sweeps', { outcome: 'completed' })) >= 1, {
      timeoutMs: 90_000,
      what: 'the sweeps to collect every released blob',
    });
    await second.stop();
    expect(foundFirst + (await total(second, 'lateBlobs'))).toBe(released.length);

    const events = await harness.readEvents();
    const published = events.filter((e) => e.tenant === tenant).map((e) => e.id);
    const unique = new Set(published);
    const { required } = await harness.expectedEventIds(tenant);
    // Anything the simulator ever listed may be published (the 7-day edge moved with the clock).
    const allowed = new Set((await harness.sim.expectedRecords(tenant, { sinceContentCreated: t0 - 8 * 24 * H })).records.keys());
    expect([...required].filter((id) => !unique.has(id))).toEqual([]);
    expect([...unique].filter((id) => !allowed.has(id))).toEqual([]);
    if (mode === 'exactly-once') expect(published.length).toBe(unique.size);
    // The released blobs' records are among them.
    const lateIds = [...truth.records.values()].filter((r) => released.some((b) => b.contentId === r.contentId)).map((r) => r.id);
    expect(lateIds.length).toBeGreaterThan(0);
    for (const id of lateIds) if (required.has(id)) expect(unique.has(id)).toBe(true);
  }, 400_000);
});
