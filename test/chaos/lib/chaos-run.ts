import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Rng } from '../../../src/simulator/prng.ts';
import { pollUntil, type ConnectorProcess, type ProcessExit, type Progress } from './connector-process.ts';
import type { KafkaClientName } from '../../../src/kafka/sink-client.ts';
import { ChaosWorld, PROJECT_ROOT, resultLine, type DeliveryMode, type EventCounts } from './world.ts';

export interface ChaosOptions {
  mode: DeliveryMode;
  tenants: number;
  eventsPerHour: number;
  seed: string;
  kills: number;
  /** A kill lands this long after the connector is ready (uniform, seeded); a quarter land during start-up instead. */
  killMinMs: number;
  killMaxMs: number;
  brokerOutage: boolean;
  /** The outage happens while the connector started after this many kills runs (default: half of them). */
  outageAfterKills?: number;
  /** Broker down this long (default: seeded, 10–20 s). */
  outageSeconds?: number;
  brokers: string[];
  /** Give up when the backlog is not collected after this long. */
  timeoutSeconds: number;
  shutdownTimeoutSeconds: number;
  dir: string;
  runId: string;
  keepDir: boolean;
  /** Share of blobs listed 6 h, 24 h or 3 days late (issue 12); enables the late-tail phase. */
  lateTail?: number;
  /** The sink's Kafka client (kafka.client); default the configuration's. */
  kafkaClient?: KafkaClientName;
  log: (line: string) => void;
}

export interface LateTailReport {
  /** Blobs that became listable, 6 h or more late, when the simulator clock moved on. */
  released: number;
  /** late_blobs_total of the process killed in the middle of the sweep (as last scraped) and of the final one. */
  foundBeforeKill: number;
  foundAfter: number;
  killedMidSweep: boolean;
}

export interface OutageReport {
  downSeconds: number;
  publishedBefore: number;
  /** Seconds from the broker serving again to the same connector process publishing again. */
  resumedAfterSeconds: number | undefined;
  backlogDoneBefore: boolean;
}

export interface ChaosResult {
  counts: EventCounts;
  line: string;
  ok: boolean;
  failures: string[];
  kills: { total: number; duringStartup: number; beforeCaughtUp: number };
  outage: OutageReport | undefined;
  lateTail: LateTailReport | undefined;
  processes: number;
  elapsedSeconds: number;
  finalExitCode: number | null;
  shutdownSeconds: number;
  dataLoss: number;
  deadLetters: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs scripts/kafka.sh with this process's environment (KAFKA_PORT, KAFKA_RUN_DIR …). */
export function kafkaScript(command: 'start' | 'stop' | 'status', log: (line: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(PROJECT_ROOT, 'scripts/kafka.sh'), command], { cwd: PROJECT_ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim().length > 0) log(`  ${line}`);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** Waits `ms` unless the process exits first; true when it is still alive. */
async function aliveFor(proc: ConnectorProcess, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (proc.alive && Date.now() < until) await sleep(Math.min(100, Math.max(1, until - Date.now())));
  return proc.alive;
}

async function ready(proc: ConnectorProcess, timeoutMs: number): Promise<boolean> {
  return pollUntil(
    async () => {
      if (!proc.alive) return 'exited' as const;
      try {
        const response = await fetch(`${proc.metricsUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
        return response.ok ? ('ready' as const) : undefined;
      } catch {
        return undefined;
      }
    },
    { timeoutMs, intervalMs: 100, what: `connector #${proc.index} to be ready` },
  ).then((state) => state === 'ready');
}

/**
 * The chaos run: the connector collects a fixed synthetic backlog while it is SIGKILLed at seeded
 * random moments (and restarted each time) and, optionally, the broker is stopped and started under
 * it; then it must catch up, stop cleanly on SIGTERM, and the events topic must hold every generated
 * event — exactly once in exactly-once mode, at least once in at-least-once mode.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const { log } = options;
  const started = Date.now();
  const rng = new Rng(`chaos:${options.seed}`);
  const failures: string[] = [];
  const world = await ChaosWorld.start({
    tenants: options.tenants,
    eventsPerHour: options.eventsPerHour,
    seed: options.seed,
    mode: options.mode,
    brokers: options.brokers,
    runId: options.runId,
    dir: options.dir,
    shutdownTimeoutSeconds: options.shutdownTimeoutSeconds,
    ...(options.lateTail === undefined ? {} : { lateTail: options.lateTail }),
    ...(options.kafkaClient === undefined ? {} : { kafkaClient: options.kafkaClient }),
  });
  let keepDir = options.keepDir;
  try {
    log(`world: ${options.tenants} tenants × 7 days at ${options.eventsPerHour} records/h, seed ${options.seed}, ${options.mode}, topics ${options.runId}.*, logs in ${options.dir}`);
    const outageAt = options.brokerOutage ? (options.outageAfterKills ?? Math.floor(options.kills / 2)) : -1;
    const kills = { total: 0, duringStartup: 0, beforeCaughtUp: 0 };
    let outage: OutageReport | undefined;

    for (let k = 0; ; k += 1) {
      const proc = world.spawnConnector();
      if (k === outageAt) outage = await brokerOutage(proc, options, rng, failures);
      if (k >= options.kills) break;
      const duringStartup = rng.chance(0.25);
      let delay: number;
      if (duringStartup) {
        delay = rng.int(200, 3000);
      } else {
        if (!(await ready(proc, 180_000))) {
          failures.push(`connector #${proc.index} exited on its own before it was ready (${describeExit(proc)})`);
          continue;
        }
        delay = rng.int(options.killMinMs, options.killMaxMs);
      }
      if (!(await aliveFor(proc, delay))) {
        failures.push(`connector #${proc.index} exited on its own (${describeExit(proc)})`);
        continue;
      }
      const lastProgress = await proc.progress();
      const caughtUp = proc.caughtUp(lastProgress);
      proc.kill('SIGKILL');
      await proc.exited;
      kills.total += 1;
      if (duringStartup) kills.duringStartup += 1;
      if (!caughtUp) kills.beforeCaughtUp += 1;
      log(`kill ${kills.total}/${options.kills}: SIGKILL connector #${proc.index} ${((Date.now() - proc.spawnedAtMs) / 1000).toFixed(1)} s after start${duringStartup ? ' (start-up)' : ''}; ${lastProgress === undefined ? 'no metrics yet' : `it had published ${lastProgress.published} events`}${caughtUp ? ' (caught up)' : ''}`);
    }

    // The last connector runs undisturbed until it has caught up, then stops on SIGTERM.
    let last = world.processes[world.processes.length - 1];
    if (last === undefined) throw new Error('no connector was started');
    let finalProgress = await catchUp(last, options, failures, started);
    let lateTail: LateTailReport | undefined;
    if ((options.lateTail ?? 0) > 0 && finalProgress !== undefined) {
      const phase = await lateTailPhase(world, last, options, failures, started);
      lateTail = phase.report;
      last = phase.last;
      finalProgress = phase.finalProgress;
      if (phase.killed) kills.total += 1;
    }
    const signalledAt = Date.now();
    last.kill('SIGTERM');
    const exit = await exitWithin(last, (options.shutdownTimeoutSeconds + 15) * 1000);
    const shutdownSeconds = (Date.now() - signalledAt) / 1000;
    if (exit === undefined) failures.push(`connector #${last.index} did not exit within ${options.shutdownTimeoutSeconds + 15} s of SIGTERM`);
    else if (exit.code !== 0) failures.push(`connector #${last.index} exited with ${describeExit(last)} after SIGTERM (expected 0)`);
    else if (shutdownSeconds > options.shutdownTimeoutSeconds) failures.push(`clean shutdown took ${shutdownSeconds.toFixed(1)} s, over shutdownTimeoutSeconds`);

    const counts = await world.countEvents();
    if (counts.lost > 0) failures.push(`${counts.lost} generated events are missing (e.g. ${counts.lostSample.join(', ')})`);
    if (options.mode === 'exactly-once' && counts.duplicates > 0) failures.push(`${counts.duplicates} duplicate events in exactly-once mode`);
    if (counts.unexpected > 0) failures.push(`${counts.unexpected} published events the simulator never generated`);
    if (failures.length > 0) {
      keepDir = true;
      for (const proc of world.processes) for (const line of proc.errorLines.slice(-3)) log(`  connector #${proc.index}: ${line}`);
    }
    return {
      counts,
      line: resultLine(counts),
      ok: failures.length === 0,
      failures,
      kills,
      outage,
      lateTail,
      processes: world.processes.length,
      elapsedSeconds: (Date.now() - started) / 1000,
      finalExitCode: exit?.code ?? null,
      shutdownSeconds,
      dataLoss: finalProgress?.dataLoss ?? 0,
      deadLetters: finalProgress?.deadLetters ?? 0,
    };
  } catch (error) {
    keepDir = true;
    throw error;
  } finally {
    await world.close({ keepDir });
  }
}

/** Polls until `proc` has caught up; undefined (and a failure) when it does not in time. */
async function catchUp(proc: ConnectorProcess, options: ChaosOptions, failures: string[], started: number, extra?: (p: Progress) => boolean): Promise<Progress | undefined> {
  try {
    const progress = await pollUntil(
      async () => {
        if (!proc.alive) throw new Error(`connector #${proc.index} exited on its own (${describeExit(proc)})`);
        const p = await proc.progress();
        return p !== undefined && proc.caughtUp(p) && (extra?.(p) ?? true) ? p : undefined;
      },
      { timeoutMs: options.timeoutSeconds * 1000, intervalMs: 1000, what: 'the connector to catch up' },
    );
    options.log(`caught up: connector #${proc.index} published ${progress.published} events in this run; ${((Date.now() - started) / 1000).toFixed(0)} s since the start`);
    return progress;
  } catch (error) {
    failures.push((error as Error).message);
    return undefined;
  }
}

/**
 * Issue 12: the simulator clock moves 2 h, so blobs of the late tail become listable far behind the
 * live overlap; a connector started after that is SIGKILLed once its sweep has collected one of
 * them, and the next must finish the job (the final count then requires their events too).
 */
async function lateTailPhase(
  world: ChaosWorld,
  caughtUp: ConnectorProcess,
  options: ChaosOptions,
  failures: string[],
  started: number,
): Promise<{ report: LateTailReport; last: ConnectorProcess; finalProgress: Progress | undefined; killed: boolean }> {
  const { log } = options;
  const released = await world.releaseLateTail(2 * 3600_000);
  log(`late tail: simulator clock moved 2 h; ${released} blobs became listable 6 h or more after their contentCreated`);
  // Restart so the caught-up check knows the simulator's new present.
  caughtUp.kill('SIGKILL');
  await caughtUp.exited;
  const report: LateTailReport = { released, foundBeforeKill: 0, foundAfter: 0, killedMidSweep: false };
  const sweeping = world.spawnConnector();
  const found = await pollUntil(
    async () => {
      if (!sweeping.alive) throw new Error(`connector #${sweeping.index} exited on its own (${describeExit(sweeping)})`);
      const p = await sweeping.progress();
      return p !== undefined && p.lateBlobs > 0 ? p : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 100, what: 'the sweep to collect a first late blob' },
  ).catch((error: unknown) => {
    if (released > 0) failures.push((error as Error).message);
    return undefined;
  });
  if (found !== undefined) {
    sweeping.kill('SIGKILL');
    await sweeping.exited;
    report.foundBeforeKill = found.lateBlobs;
    report.killedMidSweep = true;
    log(`late tail: SIGKILL connector #${sweeping.index} in the middle of its sweep, after ${found.lateBlobs} late blobs`);
  }
  const last = report.killedMidSweep ? world.spawnConnector() : sweeping;
  // Two sweeps completed by this process: at least one started after it did, over the whole range.
  const finalProgress = await catchUp(last, options, failures, started, (p) => world.tenantIds.every((t) => (p.sweepsCompleted.get(t) ?? 0) >= 2));
  report.foundAfter = finalProgress?.lateBlobs ?? 0;
  return { report, last, finalProgress, killed: report.killedMidSweep };
}

/**
 * Stops the broker under a running connector for 10–20 s and starts it again (same data directory);
 * the same process must publish again by itself.
 */
async function brokerOutage(proc: ConnectorProcess, options: ChaosOptions, rng: Rng, failures: string[]): Promise<OutageReport | undefined> {
  const { log } = options;
  const downSeconds = options.outageSeconds ?? rng.int(10, 20);
  let before: Progress;
  try {
    before = await pollUntil(
      async () => {
        if (!proc.alive) throw new Error(`connector #${proc.index} exited on its own before the broker outage (${describeExit(proc)})`);
        const progress = await proc.progress();
        return progress !== undefined && (progress.published > 0 || proc.caughtUp(progress)) ? progress : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 250, what: 'the connector to publish before the broker outage' },
    );
  } catch (error) {
    failures.push((error as Error).message);
    return undefined;
  }
  log(`broker outage: stopping the broker for ${downSeconds} s under connector #${proc.index} (pid ${proc.pid}, ${before.published} events published so far)`);
  if ((await kafkaScript('stop', log)) !== 0) throw new Error('scripts/kafka.sh stop failed');
  const atStop = (await proc.progress()) ?? before;
  const backlogDoneBefore = proc.caughtUp(atStop);
  const survived = await aliveFor(proc, downSeconds * 1000);
  if ((await kafkaScript('start', log)) !== 0) throw new Error('scripts/kafka.sh start failed');
  const backAt = Date.now();
  const report: OutageReport = { downSeconds, publishedBefore: atStop.published, resumedAfterSeconds: undefined, backlogDoneBefore };
  if (!survived) {
    failures.push(`connector #${proc.index} exited during the broker outage (${describeExit(proc)})`);
    return report;
  }
  if (backlogDoneBefore) {
    log('broker outage: the backlog was already collected before it; resumption is checked by the final catch-up');
    return report;
  }
  try {
    await pollUntil(
      async () => {
        if (!proc.alive) throw new Error(`connector #${proc.index} exited after the broker outage (${describeExit(proc)})`);
        const progress = await proc.progress();
        return progress !== undefined && (progress.published > atStop.published || proc.caughtUp(progress));
      },
      { timeoutMs: 180_000, intervalMs: 250, what: 'the connector to publish again after the broker came back' },
    );
    report.resumedAfterSeconds = (Date.now() - backAt) / 1000;
    log(`broker outage: connector #${proc.index} (same pid ${proc.pid}) publishing again ${report.resumedAfterSeconds.toFixed(1)} s after the broker came back`);
  } catch (error) {
    failures.push((error as Error).message);
  }
  return report;
}

/** The process's exit, or undefined if it is still running after `ms`. */
export async function exitWithin(proc: ConnectorProcess, ms: number): Promise<ProcessExit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([proc.exited, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function describeExit(proc: ConnectorProcess): string {
  if (proc.exit === undefined) return 'still running';
  return proc.exit.signal !== null ? `signal ${proc.exit.signal}` : `exit code ${proc.exit.code}`;
}

/** The human summary printed before the result line. */
export function summary(result: ChaosResult, options: ChaosOptions): string[] {
  const c = result.counts;
  const lines = [
    `chaos ${result.ok ? 'PASSED' : 'FAILED'}: ${options.mode}, ${options.tenants} tenants × 7 days at ${options.eventsPerHour} records/h (seed ${options.seed})`,
    `  ${result.kills.total} SIGKILLs (${result.kills.duringStartup} during start-up, ${result.kills.beforeCaughtUp} before the backlog was collected), ${result.processes} connector processes, ${result.elapsedSeconds.toFixed(0)} s in all`,
  ];
  if (result.outage !== undefined) {
    const o = result.outage;
    lines.push(
      `  broker outage: ${o.downSeconds} s down with ${o.publishedBefore} events published; ` +
        (o.backlogDoneBefore ? 'backlog already collected' : o.resumedAfterSeconds === undefined ? 'did NOT resume' : `same process resumed ${o.resumedAfterSeconds.toFixed(1)} s after the broker returned`),
    );
  }
  if (result.lateTail !== undefined) {
    const t = result.lateTail;
    lines.push(
      `  late tail: ${t.released} blobs released 6 h or more late; the sweep collected ${t.foundBeforeKill} before a SIGKILL in the middle of it${t.killedMidSweep ? '' : ' (no kill: nothing found)'} and ${t.foundAfter} after`,
    );
  }
  lines.push(
    `  final SIGTERM: exit code ${result.finalExitCode ?? 'none'} after ${result.shutdownSeconds.toFixed(1)} s (limit ${options.shutdownTimeoutSeconds} s)`,
    `  ${c.extra} extra events from the first window's overlap (allowed), ${c.unexpected} unexpected; data_loss_total ${result.dataLoss}, dead letters ${result.deadLetters}`,
  );
  for (const failure of result.failures) lines.push(`  FAILURE: ${failure}`);
  return lines;
}
