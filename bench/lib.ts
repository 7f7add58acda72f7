/** Shared helpers of the benchmark: statistics, CPU and memory of processes, the connector child. */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedConfig } from '../src/cli/embedded-pipeline.ts';
import type { RunningSimulator } from '../src/simulator/index.ts';
import { ChildConnector, metricSum, procMemory } from '../test/integration/memory/child-connector.ts';
import { kafkaBrokers, uniqueName } from '../test/support/kafka.ts';

export const M = 'onedrive_connector_';
export const MiB = 2 ** 20;
export { metricSum, procMemory };

export function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, not ${raw ?? ''}`);
  return value;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds (user + system) a process has used, from /proc; undefined when it is gone. */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The local broker's pid (scripts/kafka.sh writes it), to report its CPU beside ours. */
export function brokerPid(): number | undefined {
  try {
    const pid = Number(readFileSync(join(process.env['KAFKA_RUN_DIR'] ?? '.run/kafka', 'kafka.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && procCpuSeconds(pid) !== undefined ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function selfCpuSeconds(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1e6;
}

/** A quantile from a Prometheus histogram's cumulative buckets (linear inside the bucket). */
export function histogramQuantile(text: string, name: string, q: number): number | undefined {
  const buckets: { le: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\}\\s+(\\S+)$`).exec(line);
    if (match) buckets.push({ le: match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]), count: Number(match[2]) });
  }
  // Several label sets (tenants) would each have their own buckets: add them up per bound.
  const byBound = new Map<number, number>();
  for (const b of buckets) byBound.set(b.le, (byBound.get(b.le) ?? 0) + b.count);
  const sorted = [...byBound.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return lower;
      return lower + ((le - lower) * (rank - below)) / Math.max(1, count - below);
    }
    lower = le;
    below = count;
  }
  return lower;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface StartedConnector {
  child: ChildConnector;
  /** performance.now() when the connector logged that it started (topics made, producer ready). */
  startedAt: number;
  topicPrefix: string;
  close(): Promise<void>;
}

/**
 * `onedrive-connector run` in a child process against `sim`, configured as operators do (a config
 * file, the secret in the environment), with `overrides` on top of the embedded-run settings.
 */
export async function startConnector(
  sim: RunningSimulator,
  mode: 'exactly-once' | 'at-least-once',
  overrides: { connector?: Record<string, unknown>; kafka?: Record<string, unknown>; metrics?: Record<string, unknown>; log?: Record<string, unknown> } = {},
  startTimeoutMs = 600_000,
): Promise<StartedConnector> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-'));
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, sim.caPem);
  const topicPrefix = `${uniqueName('bench')}.`;
  const base = embeddedConfig(sim, { brokers: kafkaBrokers(), deliveryMode: mode, topicPrefix, metricsPort: 0 }, caFile);
  const config = {
    ...base,
    connector: { ...base.connector, ...overrides.connector },
    // BENCH_KAFKA_CLIENT=platformatic: the sink on @platformatic/kafka (kafka.client), for the client comparison.
    kafka: { ...base.kafka, ...(process.env['BENCH_KAFKA_CLIENT'] ? { client: process.env['BENCH_KAFKA_CLIENT'] } : {}), ...overrides.kafka },
    metrics: { ...base.metrics, ...overrides.metrics },
    log: { ...base.log, level: 'info', ...overrides.log },
  };
  const configPath = join(dir, 'config.json');
  await writeFile(configPath, JSON.stringify(config));
  // BENCH_CONNECTOR_NODE_OPTIONS: V8 flags for the connector only (e.g. --max-semi-space-size), not the bench process.
  const nodeOptions = process.env['BENCH_CONNECTOR_NODE_OPTIONS'];
  const child = ChildConnector.start(configPath, { ...process.env, ...(nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions }), ONEDRIVE_CONNECTOR_EMBEDDED_SECRET: sim.clientSecret });
  const close = async (): Promise<void> => {
    await child.stop(20_000);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + startTimeoutMs;
  while (child.metricsUrl === undefined) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`The connector did not start:\n${child.logs()}`);
    }
    await sleep(50);
  }
  return { child, startedAt: performance.now(), topicPrefix, close };
}

/** Polls the connector's metrics until `done` says so, the process exits or the deadline passes. */
export async function waitForMetrics(child: ChildConnector, deadlineMs: number, done: (text: string) => boolean, everyMs = 200): Promise<{ text: string; finished: boolean }> {
  for (;;) {
    const text = await child.metrics();
    if (text !== '' && done(text)) return { text, finished: true };
    if (child.exitCode !== null) throw new Error(`The connector exited (${child.exitCode}):\n${child.logs()}`);
    if (performance.now() > deadlineMs) return { text, finished: false };
    await sleep(everyMs);
  }
}
