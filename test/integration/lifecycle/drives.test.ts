import { describe, expect, it } from 'vitest';
import type { FileEvent } from '../../../src/contracts/file-event.ts';
import { driveKey } from '../../../src/lifecycle/drives.ts';
import { ManualClock } from '../../../src/simulator/index.ts';
import { readAll } from '../../support/kafka.ts';
import { harnessPerTest } from '../../support/pipeline-harness.ts';

/**
 * New drives reach the drives topic with their first events (same transaction), once: every drive
 * of a published event is announced exactly once, and a restart collecting more content on the same
 * drives announces none of them again.
 */
describe('drive discovery', () => {
  const startHarness = harnessPerTest();

  it('announces each drive once, with its events, and not again after a restart', async () => {
    const clock = new ManualClock(Date.now());
    const harness = await startHarness({ simulator: { seed: 'drives', clock, eventsPerHour: 30, tenants: [{ historyHours: 12 }] } });
    const first = await harness.startConnector();
    await harness.waitCaughtUp(first, 120_000);
    const discoveredFirst = Number((await first.metrics.drivesDiscovered.get()).values.reduce((sum, v) => sum + v.value, 0));
    await first.stop();
    const drivesTopic = harness.config.kafka.topics.drives;
    const afterFirst = await readAll(drivesTopic, { isolation: 'read_committed', deadlineMs: 30_000 });
    const events = await harness.readEvents();
    const keysOfEvents = new Set(events.map((e) => driveKey(e.value as unknown as FileEvent)).filter((k) => k !== undefined));
    expect(keysOfEvents.size).toBeGreaterThan(3);
    expect(afterFirst.map((m) => m.key).sort()).toEqual([...keysOfEvents].sort());
    expect(discoveredFirst).toBe(keysOfEvents.size);

    clock.advance(2 * 3600_000);
    const second = await harness.startConnector();
    await harness.waitCaughtUp(second, 120_000);
    await second.stop();
    const afterSecond = await readAll(drivesTopic, { isolation: 'read_committed', deadlineMs: 30_000 });
    const keys = afterSecond.map((m) => m.key ?? '');
    expect(keys.length).toBe(new Set(keys).size);
    const moreEvents = await harness.readEvents();
    expect(moreEvents.length).toBeGreaterThan(events.length);
    const allKeys = new Set(moreEvents.map((e) => driveKey(e.value as unknown as FileEvent)).filter((k) => k !== undefined));
    expect(new Set(keys)).toEqual(allKeys);
  }, 300_000);
});
