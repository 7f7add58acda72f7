import { freePort, ChaosWorld, resultLine, type EventCounts } from './world.ts';
import { pollUntil, type ConnectorProcess } from './connector-process.ts';
import { Rng } from '../../../src/simulator/prng.ts';

/** What happens to the replicas, in order; each step waits until every shard has a ready owner first. */
export type ReplicaStep =
  | { kind: 'start' }
  /** SIGKILL a running replica (the oldest, or a seeded random one). */
  | { kind: 'kill' }
  /** SIGSTOP a replica for this long (it loses the group and its shards), then SIGCONT: it must not publish for them. */
  | { kind: 'freeze'; seconds: number }
  /** SIGTERM a replica: it must drain, hand its shards over and exit 0. */
  | { kind: 'term' };

export interface ReplicaRunOptions {
  tenants: number;
  eventsPerHour: number;
  lookbackHours: number;
  seed: string;
  brokers: string[];
  runId: string;
  dir: string;
  shards: number;
  sessionTimeoutSeconds: number;
  /** Replicas running before the first step. */
  replicas: number;
  steps: readonly ReplicaStep[];
  /** Pause between a step and the next, once every shard has an owner again. */
  stepGapMs: number;
  /** Pick the victim of kill/freeze/term at random (seeded) instead of the oldest. */
  randomVictims: boolean;
  timeoutSeconds: number;
  log: (line: string) => void;
}

export interface ReplicaRunResult {
  counts: EventCounts;
  line: string;
  failures: string[];
  /** Seconds from a SIGKILL/SIGSTOP to every shard being owned by a responsive replica again. */
  takeoverSeconds: number[];
  /** Tenants listed by two responsive replicas' /status in the same round (must be none). */
  overlaps: string[];
  /** /status rounds taken while the run lasted. */
  rounds: number;
  processes: number;
  elapsedSeconds: number;
}

interface StatusView {
  tenants: string[];
  shards: { count: number; owned: number[]; changing: { assigning: number[]; revoking: number[] } };
}

async function statusOf(proc: ConnectorProcess): Promise<StatusView | undefined> {
  if (!proc.alive) return undefined;
  try {
    const response = await fetch(`${proc.metricsUrl}/status`, { signal: AbortSignal.timeout(1_500) });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { tenants: Record<string, unknown>; shards?: StatusView['shards'] };
    if (body.shards === undefined) return undefined;
    return { tenants: Object.keys(body.tenants), shards: body.shards };
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Replicas side by side (issue 9): N connector processes share the tenants through the shard group
 * while some are SIGKILLed, frozen, stopped and new ones start. Meanwhile /status of every replica
 * is polled: no tenant may be listed by two replicas at once. At the end the events topic
 * (read_committed) must hold every generated event exactly once.
 */
export async function runReplicas(options: ReplicaRunOptions): Promise<ReplicaRunResult> {
  const { log } = options;
  const started = Date.now();
  const rng = new Rng(`replicas:${options.seed}`);
  const failures: string[] = [];
  const overlaps: string[] = [];
  const takeoverSeconds: number[] = [];
  const world = await ChaosWorld.start({
    tenants: options.tenants,
    eventsPerHour: options.eventsPerHour,
    seed: options.seed,
    mode: 'exactly-once',
    brokers: options.brokers,
    runId: options.runId,
    dir: options.dir,
    lookbackHours: options.lookbackHours,
    shutdownTimeoutSeconds: 20,
    // The sweep's digests are not what this run checks; its first sweep would only add load.
    connector: { sweep: { enabled: false, intervalMinutes: 360, startupSpreadSeconds: 600, maxConcurrentBlobs: 2 } },
    kafka: { transactionTimeoutSeconds: 10, shards: { count: options.shards, sessionTimeoutSeconds: options.sessionTimeoutSeconds, heartbeatIntervalSeconds: 1 } },
  });
  const frozen = new Set<ConnectorProcess>();
  let completed = false;
  let rounds = 0;
  let monitoring = true;
  let latest: Map<ConnectorProcess, StatusView> = new Map();
  const monitor = (async () => {
    while (monitoring) {
      const live = world.processes.filter((p) => p.alive && !frozen.has(p));
      const views = await Promise.all(live.map(async (p) => [p, await statusOf(p)] as const));
      rounds += 1;
      latest = new Map(views.filter((v): v is readonly [ConnectorProcess, StatusView] => v[1] !== undefined));
      const owners = new Map<string, number[]>();
      for (const [proc, view] of latest) for (const tenant of view.tenants) owners.set(tenant, [...(owners.get(tenant) ?? []), proc.index]);
      for (const [tenant, procs] of owners) if (procs.length > 1 && overlaps.length < 20) overlaps.push(`${tenant} on #${procs.join(' and #')} at +${((Date.now() - started) / 1000).toFixed(1)} s`);
      await sleep(300);
    }
  })();
  /** Every shard owned by exactly one responsive replica, none changing hands. */
  const allOwned = (): boolean => {
    const owned = [...latest.values()].flatMap((v) => v.shards.owned);
    const changing = [...latest.values()].some((v) => v.shards.changing.assigning.length + v.shards.changing.revoking.length > 0);
    return !changing && owned.length === options.shards && new Set(owned).size === options.shards;
  };
  /** Waits for a /status round that started after the action, showing every shard owned. */
  const waitAllOwned = async (what: string): Promise<number> => {
    const from = Date.now();
    const after = rounds + 1;
    try {
      await pollUntil(() => rounds > after && allOwned(), { timeoutMs: 120_000, intervalMs: 100, what });
    } catch (error) {
      const seen = [...latest].map(([p, v]) => `#${p.index} owns [${v.shards.owned.join(',')}] assigning [${v.shards.changing.assigning.join(',')}] revoking [${v.shards.changing.revoking.join(',')}]`);
      throw new Error(`${(error as Error).message}; last /status: ${seen.join('; ') || 'none answered'}`, { cause: error });
    }
    return (Date.now() - from) / 1000;
  };
  const victim = (): ConnectorProcess => {
    const live = world.processes.filter((p) => p.alive && !frozen.has(p));
    const pick = options.randomVictims ? live[rng.int(0, live.length - 1)] : live[0];
    if (pick === undefined) throw new Error('no live replica to act on');
    return pick;
  };
  const spawn = async (): Promise<ConnectorProcess> => {
    const proc = await world.spawnReplica(await freePort());
    log(`start: replica #${proc.index} (pid ${proc.pid})`);
    return proc;
  };
  try {
    log(`world: ${options.tenants} tenants × ${options.lookbackHours} h at ${options.eventsPerHour} records/h, ${options.shards} shards, session timeout ${options.sessionTimeoutSeconds} s, topics ${options.runId}.*`);
    for (let i = 0; i < options.replicas; i += 1) await spawn();
    log(`every shard owned after ${(await waitAllOwned('the first replicas to own every shard')).toFixed(1)} s`);
    for (const step of options.steps) {
      await sleep(options.stepGapMs);
      if (step.kind === 'start') {
        await spawn();
        log(`  shards rebalanced in ${(await waitAllOwned('the new replica to take its shards')).toFixed(1)} s`);
      } else if (step.kind === 'kill') {
        const proc = victim();
        proc.kill('SIGKILL');
        await proc.exited;
        log(`kill: SIGKILL replica #${proc.index}`);
        const seconds = await waitAllOwned(`the shards of killed replica #${proc.index} to move`);
        takeoverSeconds.push(seconds);
        log(`  its shards moved in ${seconds.toFixed(1)} s`);
      } else if (step.kind === 'freeze') {
        const proc = victim();
        frozen.add(proc);
        proc.kill('SIGSTOP');
        log(`freeze: SIGSTOP replica #${proc.index} for ${step.seconds} s`);
        const seconds = await waitAllOwned(`the shards of frozen replica #${proc.index} to move`);
        takeoverSeconds.push(seconds);
        log(`  its shards moved in ${seconds.toFixed(1)} s`);
        await sleep(Math.max(0, step.seconds * 1000 - seconds * 1000));
        proc.kill('SIGCONT');
        frozen.delete(proc);
        log(`  SIGCONT replica #${proc.index}`);
        log(`  shards rebalanced in ${(await waitAllOwned(`replica #${proc.index} to rejoin`)).toFixed(1)} s`);
      } else {
        const proc = victim();
        proc.kill('SIGTERM');
        const exit = await Promise.race([proc.exited, sleep(45_000).then(() => undefined)]);
        if (exit === undefined) failures.push(`replica #${proc.index} did not exit within 45 s of SIGTERM`);
        else if (exit.code !== 0) failures.push(`replica #${proc.index} exited with ${exit.code ?? exit.signal} after SIGTERM (expected 0)`);
        log(`term: SIGTERM replica #${proc.index}: exited ${exit?.code ?? exit?.signal ?? 'not yet'}`);
        log(`  its shards moved in ${(await waitAllOwned(`the shards of stopped replica #${proc.index} to move`)).toFixed(1)} s`);
      }
      for (const proc of world.processes) if (proc.exit !== undefined && proc.exit.signal === null && proc.exit.code !== 0) failures.push(`replica #${proc.index} exited by itself with ${proc.exit.code}`);
    }
    const simNow = world.sim.clock.now();
    await pollUntil(
      async () => {
        if (Date.now() - started > options.timeoutSeconds * 1000) return true;
        const cursors = await world.readCursors();
        return world.tenantIds.every((t) => Date.parse(cursors.get(t)?.lowerBound ?? '1970-01-01T00:00:00Z') >= simNow - 2_000);
      },
      { timeoutMs: options.timeoutSeconds * 1000 + 60_000, intervalMs: 1_000, what: 'every tenant to catch up' },
    );
    if (Date.now() - started > options.timeoutSeconds * 1000) failures.push(`not every tenant caught up within ${options.timeoutSeconds} s`);
    monitoring = false;
    await monitor;
    for (const proc of world.processes.filter((p) => p.alive)) {
      proc.kill('SIGTERM');
      const exit = await Promise.race([proc.exited, sleep(45_000).then(() => undefined)]);
      if (exit?.code !== 0) failures.push(`replica #${proc.index} did not exit 0 after the final SIGTERM (${exit?.code ?? exit?.signal ?? 'still running'})`);
    }
    const counts = await world.countEvents();
    if (counts.lost > 0) failures.push(`${counts.lost} generated events are missing (e.g. ${counts.lostSample.join(', ')})`);
    if (counts.duplicates > 0) failures.push(`${counts.duplicates} duplicate events`);
    if (counts.unexpected > 0) failures.push(`${counts.unexpected} published events the simulator never generated`);
    if (overlaps.length > 0) failures.push(`tenants owned by two replicas at once: ${overlaps.join('; ')}`);
    if (failures.length > 0) for (const proc of world.processes) for (const line of proc.errorLines.slice(-3)) log(`  replica #${proc.index}: ${line}`);
    completed = true;
    return { counts, line: resultLine(counts), failures, takeoverSeconds, overlaps, rounds, processes: world.processes.length, elapsedSeconds: (Date.now() - started) / 1000 };
  } finally {
    monitoring = false;
    await monitor.catch(() => undefined);
    for (const proc of frozen) proc.kill('SIGCONT');
    await world.close({ keepDir: failures.length > 0 || !completed });
    if (failures.length > 0 || !completed) log(`logs kept in ${options.dir}`);
  }
}
