import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReplicas } from '../../chaos/lib/replica-run.ts';
import { kafkaBrokers, uniqueName } from '../../support/kafka.ts';

/**
 * Issue 9 in CI: three connector processes (`onedrive-connector run`) share 30 tenants through the
 * shard group; one is SIGKILLed mid-run, a fourth starts, one is frozen past the session timeout
 * (it comes back with producers that are fenced), another is stopped with SIGTERM. No tenant is
 * listed by two replicas at once, the shards of a dead replica move within the session timeout
 * (plus the rebalance), and the events topic holds every generated event exactly once.
 */
describe('scale-out: replicas share the tenants through the shard group (real processes, real Kafka)', () => {
  it('keeps every tenant flowing, owned by one replica at a time, exactly once, across kill, join, freeze and stop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scale-replicas-'));
    const sessionTimeoutSeconds = 6;
    const result = await runReplicas({
      tenants: 30,
      eventsPerHour: 120,
      lookbackHours: 24,
      seed: 'replicas-ci',
      brokers: kafkaBrokers(),
      runId: uniqueName('replicas'),
      dir,
      shards: 12,
      sessionTimeoutSeconds,
      replicas: 3,
      steps: [{ kind: 'kill' }, { kind: 'start' }, { kind: 'freeze', seconds: sessionTimeoutSeconds + 4 }, { kind: 'term' }],
      stepGapMs: 2_000,
      randomVictims: false,
      timeoutSeconds: 170,
      log: (line) => console.log(line),
    });
    console.log(`${result.line} processes=${result.processes} takeover_seconds=${result.takeoverSeconds.map((s) => s.toFixed(1)).join(',')} status_rounds=${result.rounds} elapsed=${result.elapsedSeconds.toFixed(0)}s`);
    expect(result.failures).toEqual([]);
    expect(result.counts.generated).toBeGreaterThan(10_000);
    expect(result.counts.lost).toBe(0);
    expect(result.counts.duplicates).toBe(0);
    expect(result.overlaps).toEqual([]);
    expect(result.rounds).toBeGreaterThan(20);
    // Detection takes the session timeout; then a heartbeat, a rebalance, a fence and a cursor read.
    for (const seconds of result.takeoverSeconds) expect(seconds).toBeLessThan(sessionTimeoutSeconds + 20);
  }, 300_000);
});
