import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitWithin } from '../../chaos/lib/chaos-run.ts';
import { pollUntil, type ConnectorProcess } from '../../chaos/lib/connector-process.ts';
import { ChaosWorld, freePort, type DeliveryMode, type WorldOptions } from '../../chaos/lib/world.ts';
import { kafkaBrokers, requireBroker, uniqueName } from '../../support/kafka.ts';

/**
 * Invariant 6 with the real `onedrive-connector run` in a child process: SIGTERM mid-stream drains
 * and exits 0 within shutdownTimeoutSeconds, committing only the acknowledged prefix; a second signal
 * (or the deadline) forces the exit; either way a restart collects everything, nothing lost, and in
 * exactly-once mode nothing twice. Ground truth: the simulator (frozen clock) in this process.
 */
describe('graceful shutdown of the run command (SIGTERM, second signal, deadline)', () => {
  const SHUTDOWN_TIMEOUT_SECONDS = 20;
  let world: ChaosWorld | undefined;
  beforeEach(requireBroker);
  afterEach(async () => {
    await world?.close({ keepDir: false });
    world = undefined;
  });

  async function startWorld(mode: DeliveryMode, connector: WorldOptions['connector'] = {}): Promise<ChaosWorld> {
    const runId = uniqueName('shutdown');
    world = await ChaosWorld.start({
      tenants: 2,
      eventsPerHour: 20,
      seed: runId,
      mode,
      brokers: kafkaBrokers(),
      runId,
      dir: await mkdtemp(join(tmpdir(), 'shutdown-test-')),
      shutdownTimeoutSeconds: SHUTDOWN_TIMEOUT_SECONDS,
      connector,
    });
    return world;
  }

  /** Waits until the process has published at least `events` and is not done with the backlog. */
  async function midStream(proc: ConnectorProcess, events: number): Promise<number> {
    const progress = await pollUntil(
      async () => {
        if (!proc.alive) throw new Error(`connector exited on its own: ${proc.errorLines.join('\n')}`);
        const p = await proc.progress();
        return p !== undefined && p.published >= events ? p : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 50, what: `${events} published events` },
    );
    expect(proc.caughtUp(progress), 'the backlog must still be in progress when the signal comes').toBe(false);
    return progress.published;
  }

  /**
   * Invariant 1 after a stop: every blob the committed cursor covers (created before its lower bound,
   * or listed as done) has all its events in the topic. Returns how many events were covered and how
   * many generated events lie beyond the cursor (the stop came mid-stream, so some must).
   */
  async function assertCursorCoversOnlyPublished(w: ChaosWorld): Promise<{ covered: number; beyond: number }> {
    const cursors = await w.readCursors();
    const published = await w.readEvents();
    const firstBounds = w.firstRunLowerBounds();
    let covered = 0;
    let beyond = 0;
    for (const tenant of w.tenantIds) {
      const cursor = cursors.get(tenant);
      const since = firstBounds.get(tenant);
      expect(cursor, `a committed cursor for ${tenant}`).toBeDefined();
      expect(since).toBeDefined();
      if (cursor === undefined || since === undefined) continue;
      const truth = await w.sim.expectedRecords(tenant, { sinceContentCreated: since });
      const created = new Map(truth.blobs.map((b) => [b.contentId, Date.parse(b.contentCreated)]));
      const lowerBound = Date.parse(cursor.lowerBound);
      const expectedIds = await w.expectedEventIds(tenant, since);
      const ids = published.get(tenant) ?? new Map<string, number>();
      const missing: string[] = [];
      for (const record of truth.records.values()) {
        if (!expectedIds.has(record.id)) continue;
        const blobCreated = created.get(record.contentId) ?? Number.POSITIVE_INFINITY;
        if (blobCreated < lowerBound || record.contentId in cursor.done) {
          covered += 1;
          if (!ids.has(record.id)) missing.push(record.id);
        } else {
          beyond += 1;
        }
      }
      expect({ tenant, missing: missing.slice(0, 5), count: missing.length }).toEqual({ tenant, missing: [], count: 0 });
    }
    return { covered, beyond };
  }

  /** Restarts, waits for the catch-up, stops with SIGTERM and compares the topic with the ground truth. */
  async function restartAndComplete(w: ChaosWorld, mode: DeliveryMode): Promise<void> {
    const proc = w.spawnConnector();
    await pollUntil(
      async () => {
        if (!proc.alive) throw new Error(`restarted connector exited on its own: ${proc.errorLines.join('\n')}`);
        return proc.caughtUp(await proc.progress());
      },
      { timeoutMs: 150_000, intervalMs: 500, what: 'the restarted connector to catch up' },
    );
    proc.kill('SIGTERM');
    const exit = await exitWithin(proc, (SHUTDOWN_TIMEOUT_SECONDS + 10) * 1000);
    expect(exit?.code).toBe(0);
    const counts = await w.countEvents();
    console.log(`${mode}: generated=${counts.generated} published_unique=${counts.publishedUnique} duplicates=${counts.duplicates} lost=${counts.lost}`);
    expect(counts.generated).toBeGreaterThan(3000);
    expect({ lost: counts.lost, unexpected: counts.unexpected }).toEqual({ lost: 0, unexpected: 0 });
    if (mode === 'exactly-once') expect(counts.duplicates).toBe(0);
  }

  it.each(['exactly-once', 'at-least-once'] as const)(
    'SIGTERM mid-stream exits 0 within shutdownTimeoutSeconds with only the acked prefix committed; a restart completes (%s)',
    async (mode) => {
      const w = await startWorld(mode);
      const proc = w.spawnConnector();
      await midStream(proc, 1500);
      const signalled = Date.now();
      proc.kill('SIGTERM');
      const exit = await exitWithin(proc, (SHUTDOWN_TIMEOUT_SECONDS + 10) * 1000);
      const took = Date.now() - signalled;
      expect(exit, 'the process exits after SIGTERM').toBeDefined();
      expect(exit?.code).toBe(0);
      expect(took).toBeLessThan(SHUTDOWN_TIMEOUT_SECONDS * 1000);
      const { covered, beyond } = await assertCursorCoversOnlyPublished(w);
      expect(covered).toBeGreaterThan(0);
      expect(beyond).toBeGreaterThan(0);
      console.log(`${mode}: SIGTERM → exit 0 in ${took} ms; cursor covers ${covered} events, ${beyond} left for the restart`);
      await restartAndComplete(w, mode);
    },
  );

  it('a second signal exits at once (130); nothing acknowledged is lost and a restart completes exactly once', async () => {
    // Many blobs per tenant in flight, so the drain after the first SIGTERM takes a while.
    const w = await startWorld('exactly-once', { blobConcurrencyPerTenant: 16 });
    const proc = w.spawnConnector();
    await midStream(proc, 1500);
    proc.kill('SIGTERM');
    await pollUntil(() => proc.shutdownRequestedAtMs !== undefined || !proc.alive, { timeoutMs: 10_000, intervalMs: 5, what: 'the first signal to be handled' });
    expect(proc.alive, 'still draining when the second signal comes').toBe(true);
    const second = Date.now();
    proc.kill('SIGTERM');
    const exit = await exitWithin(proc, 10_000);
    expect(exit?.code).toBe(130);
    expect(Date.now() - second).toBeLessThan(2_000);
    const { covered } = await assertCursorCoversOnlyPublished(w);
    expect(covered).toBeGreaterThan(0);
    await restartAndComplete(w, 'exactly-once');
  });

  /** A small world whose broker address has nothing listening: start-up keeps retrying Kafka. */
  async function worldWithoutKafka(name: string): Promise<ChaosWorld> {
    const runId = uniqueName(name);
    return ChaosWorld.start({
      tenants: 1,
      eventsPerHour: 5,
      seed: runId,
      mode: 'exactly-once',
      brokers: [`127.0.0.1:${await freePort()}`],
      runId,
      dir: await mkdtemp(join(tmpdir(), 'shutdown-test-')),
    });
  }

  it('a start that cannot reach Kafka exits 1 instead of staying up doing nothing', async () => {
    world = await worldWithoutKafka('no-kafka');
    const proc = world.spawnConnector();
    const exit = await exitWithin(proc, 120_000);
    expect(exit, 'the process exits once kafkajs gives up').toBeDefined();
    expect(exit?.code).toBe(1);
    expect(proc.errorLines.join('\n')).toContain('Kafka unavailable');
  });

  it('SIGTERM while still starting (Kafka not reachable yet) exits 0 at once instead of waiting for start-up', async () => {
    world = await worldWithoutKafka('term-at-start');
    const proc = world.spawnConnector();
    // The status server opens first; then kafkajs retries the unreachable broker for several seconds,
    // so once /healthz answers, start-up is in progress (and /readyz says it has not finished).
    await pollUntil(async () => (await fetch(`${proc.metricsUrl}/healthz`).catch(() => undefined))?.ok === true, { timeoutMs: 20_000, what: 'the status server' });
    expect((await fetch(`${proc.metricsUrl}/readyz`)).status).toBe(503);
    const signalledAt = Date.now();
    proc.kill('SIGTERM');
    const exit = await exitWithin(proc, 20_000);
    expect(exit?.code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(15_000);
  });

  it('the shutdown deadline forces the exit (code 1, not drained); nothing acknowledged is lost and a restart completes exactly once', async () => {
    const w = await startWorld('exactly-once', { shutdownTimeoutSeconds: 0.05, blobConcurrencyPerTenant: 16 });
    const proc = w.spawnConnector();
    await midStream(proc, 1500);
    const signalled = Date.now();
    proc.kill('SIGTERM');
    const exit = await exitWithin(proc, 20_000);
    expect(exit, 'the process exits after the deadline').toBeDefined();
    expect(exit?.code).toBe(1);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    await assertCursorCoversOnlyPublished(w);
    await restartAndComplete(w, 'exactly-once');
  });
});
