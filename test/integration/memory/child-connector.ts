import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

/** `VmRSS` / `VmHWM` of a process in bytes, from /proc (Linux only); undefined once it has exited. */
export function procMemory(pid: number): { rss: number; hwm: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** Samples a process's RSS on a timer; keeps the peak and a coarse timeline for the failure message. */
export class RssSampler {
  peak = 0;
  /** The kernel's own high-water mark, read at every sample (catches spikes between samples). */
  highWaterMark = 0;
  samples = 0;
  readonly timeline: Array<{ atMs: number; rssMiB: number; phase: string }> = [];
  phase = 'start';
  readonly #pid: number;
  readonly #started = Date.now();
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, intervalMs = 200) {
    this.#pid = pid;
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  sample(): void {
    const memory = procMemory(this.#pid);
    if (memory === undefined) return;
    this.samples += 1;
    this.peak = Math.max(this.peak, memory.rss);
    this.highWaterMark = Math.max(this.highWaterMark, memory.hwm);
    // One point per 5 s is enough to read the shape of the run afterwards.
    if (this.samples % 25 === 1) this.timeline.push({ atMs: Date.now() - this.#started, rssMiB: Math.round(memory.rss / 2 ** 20), phase: this.phase });
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Sum of a Prometheus text-format metric's samples, optionally only those whose labels include `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => set.includes(`${key}="${value}"`))) total += Number(match[3]);
  }
  return total;
}

/**
 * The connector as operators run it (`onedrive-connector run -c <file>`), in its own process so its
 * memory is measured alone. Logs (pino JSON on stdout) are kept in a bounded tail for failure messages.
 */
export class ChildConnector {
  readonly process: ChildProcess;
  readonly logTail: string[] = [];
  metricsUrl: string | undefined;
  readonly #exited: Promise<number | null>;
  readonly #logFile: string | undefined;

  private constructor(child: ChildProcess, logFile: string | undefined) {
    this.process = child;
    this.#logFile = logFile;
    this.#exited = once(child, 'exit').then(([code]) => code as number | null);
    let partial = '';
    const onData = (data: Buffer): void => {
      const lines = (partial + data.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.#onLine(line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  }

  /** `logFile`: every log line is also appended there (to follow a long run from outside). */
  static start(configPath: string, env: NodeJS.ProcessEnv, logFile?: string): ChildConnector {
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'bin/onedrive-connector.js'), 'run', '-c', configPath], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ChildConnector(child, logFile);
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new Error('The connector process did not start');
    return this.process.pid;
  }

  get exitCode(): number | null {
    return this.process.exitCode;
  }

  async metrics(): Promise<string> {
    if (this.metricsUrl === undefined) return '';
    try {
      const response = await fetch(`${this.metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
      return await response.text();
    } catch {
      return '';
    }
  }

  /** SIGTERM, then the exit code; SIGKILL if it has not exited within `deadlineMs`. */
  async stop(deadlineMs = 60_000): Promise<number | null> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return this.process.exitCode;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), deadlineMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  logs(): string {
    return this.logTail.join('\n');
  }

  #onLine(line: string): void {
    if (line.trim() === '') return;
    if (this.#logFile !== undefined) appendFileSync(this.#logFile, `${line}\n`);
    this.logTail.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
    if (this.logTail.length > 200) this.logTail.shift();
    if (this.metricsUrl === undefined && line.includes('Connector started')) {
      try {
        const entry = JSON.parse(line) as { metrics?: unknown };
        if (typeof entry.metrics === 'string') this.metricsUrl = entry.metrics;
      } catch {
        // Not a JSON log line; keep waiting.
      }
    }
  }
}

/** scripts/kafka.sh with this process's environment (KAFKA_PORT, KAFKA_RUN_DIR … name the broker). */
export async function kafkaScript(command: 'start' | 'stop'): Promise<void> {
  await run('bash', [resolve(REPO_ROOT, 'scripts/kafka.sh'), command], { cwd: REPO_ROOT, env: process.env, timeout: 180_000 });
}
