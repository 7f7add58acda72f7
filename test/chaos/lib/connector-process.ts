import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';

export interface ConnectorProcessOptions {
  index: number;
  configPath: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  metricsUrl: string;
  tenants: readonly string[];
  /** The simulator's frozen present: no blob is created after it. */
  simNowMs: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  atMs: number;
}

/** What /metrics says about progress. */
export interface Progress {
  atMs: number;
  published: number;
  checkpointCommits: number;
  inflightBlobs: number;
  /** Per tenant: cursor lag in seconds (absent until the first commit of this process). */
  lagSeconds: Map<string, number>;
  /** Per tenant: the status whose gauge is 1. */
  status: Map<string, string>;
  dataLoss: number;
  deadLetters: number;
  /** Blobs the reconciliation sweep collected late (issue 12), all tenants. */
  lateBlobs: number;
  /** Per tenant: reconciliation sweeps this process completed. */
  sweepsCompleted: Map<string, number>;
}

interface LogLine {
  level?: number;
  msg?: string;
  tenant?: string;
  lowerBound?: string;
  resumed?: boolean;
}

/**
 * `node bin/onedrive-connector.js run -c <config>` as a child process: its log lines go to a file,
 * the few the chaos checks need are parsed, and /metrics is scraped for progress.
 */
export class ConnectorProcess {
  readonly index: number;
  /** Where /metrics, /status and /readyz are served (the same port for every process of a run). */
  readonly metricsUrl: string;
  readonly child: ChildProcess;
  readonly spawnedAtMs = Date.now();
  readonly exited: Promise<ProcessExit>;
  /** Tenants that found no cursor at start, with the lower bound they started from. */
  readonly freshStarts = new Map<string, number>();
  /** When the process logged "Shutdown requested", if it did. */
  shutdownRequestedAtMs: number | undefined;
  exit: ProcessExit | undefined;
  readonly #options: ConnectorProcessOptions;
  readonly #log: WriteStream;
  #partial = '';
  readonly #errors: string[] = [];

  constructor(options: ConnectorProcessOptions) {
    this.#options = options;
    this.index = options.index;
    this.metricsUrl = options.metricsUrl;
    this.#log = createWriteStream(options.logFile, { flags: 'a' });
    this.child = spawn(process.execPath, [join(options.cwd, 'bin/onedrive-connector.js'), 'run', '-c', options.configPath], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => this.#log.write(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => this.#onStderr(chunk));
    this.exited = new Promise<ProcessExit>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, atMs: Date.now() };
        if (this.#partial.length > 0) this.#onLine(this.#partial);
        this.#log.end();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** The last error and fatal log lines (level ≥ 50), for failure reports. */
  get errorLines(): readonly string[] {
    return this.#errors;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** Scrapes /metrics; undefined while the process is not serving (starting, stopped). */
  async progress(): Promise<Progress | undefined> {
    let text: string;
    try {
      const response = await fetch(`${this.metricsUrl}/metrics`, { signal: AbortSignal.timeout(3_000) });
      if (!response.ok) return undefined;
      text = await response.text();
    } catch {
      return undefined;
    }
    const progress: Progress = { atMs: Date.now(), published: 0, checkpointCommits: 0, inflightBlobs: 0, lagSeconds: new Map(), status: new Map(), dataLoss: 0, deadLetters: 0, lateBlobs: 0, sweepsCompleted: new Map() };
    for (const sample of parseMetrics(text)) {
      const tenant = sample.labels['tenant'] ?? '';
      switch (sample.name) {
        case 'onedrive_connector_events_published_total':
          progress.published += sample.value;
          break;
        case 'onedrive_connector_checkpoint_commits_total':
          progress.checkpointCommits += sample.value;
          break;
        case 'onedrive_connector_inflight_blobs':
          progress.inflightBlobs = sample.value;
          break;
        case 'onedrive_connector_cursor_lag_seconds':
          progress.lagSeconds.set(tenant, sample.value);
          break;
        case 'onedrive_connector_tenant_status':
          if (sample.value === 1) progress.status.set(tenant, sample.labels['status'] ?? '');
          break;
        case 'onedrive_connector_data_loss_total':
          progress.dataLoss += sample.value;
          break;
        case 'onedrive_connector_dead_letters_total':
          progress.deadLetters += sample.value;
          break;
        case 'onedrive_connector_late_blobs_total':
          progress.lateBlobs += sample.value;
          break;
        case 'onedrive_connector_sweeps_total':
          if (sample.labels['outcome'] === 'completed') progress.sweepsCompleted.set(tenant, sample.value);
          break;
        default:
      }
    }
    return progress;
  }

  /**
   * Caught up: every tenant committed a cursor whose lower bound reached the simulator's present,
   * i.e. nothing is pending and the listing went up to the newest blob. The poller plans windows by
   * Microsoft's clock (the simulator's frozen one, from the Date header), so the bound converges on
   * the simulator's present and no further; the lag gauge is now − bound at scrape time, so
   * `atMs − lag` is the committed bound (2 s of slack: the scrape's own timing, and a bound at the frozen present floored to the second).
   */
  caughtUp(progress: Progress | undefined): boolean {
    if (progress === undefined) return false;
    return this.#options.tenants.every((t) => {
      const lag = progress.lagSeconds.get(t);
      if (lag === undefined) return false;
      const committedBoundMs = progress.atMs - lag * 1000;
      return committedBoundMs >= this.#options.simNowMs - 2000 && progress.status.get(t) === 'healthy';
    });
  }

  #onStderr(chunk: Buffer): void {
    this.#log.write(chunk);
    const text = this.#partial + chunk.toString('utf8');
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#onLine(line);
  }

  #onLine(line: string): void {
    if (!line.startsWith('{')) {
      if (line.trim().length > 0) this.#remember(line);
      return;
    }
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      return;
    }
    if (parsed.msg === 'Tenant poller started' && parsed.resumed === false && parsed.tenant !== undefined && parsed.lowerBound !== undefined) {
      this.freshStarts.set(parsed.tenant, Date.parse(parsed.lowerBound));
    } else if (parsed.msg === 'Shutdown requested') {
      this.shutdownRequestedAtMs ??= Date.now();
    }
    if ((parsed.level ?? 0) >= 50) this.#remember(line);
  }

  #remember(line: string): void {
    this.#errors.push(line.length > 600 ? `${line.slice(0, 600)}…` : line);
    if (this.#errors.length > 20) this.#errors.shift();
  }
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, as far as prom-client writes it. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/** Polls `condition` every `intervalMs` until it returns a value other than undefined/false, or the deadline passes. */
export async function pollUntil<T>(condition: () => Promise<T | undefined | false> | T | undefined | false, options: { timeoutMs: number; intervalMs?: number; what: string }): Promise<T> {
  const until = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`Timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}
