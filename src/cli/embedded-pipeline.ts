import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../config/load.ts';
import type { ConnectorConfig, ConnectorConfigInput } from '../config/schema.ts';
import { createConnector, type Connector } from '../runtime/connector.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../simulator/index.ts';
import type { SimulatorHandle } from '../simulator/thread.ts';
import type { TenantStatus } from '../source/poller/tenant-status.ts';
import type { Logger } from '../telemetry/logger.ts';

/** The publisher id the embedded runs send; any GUID works against the simulator. */
const EMBEDDED_PUBLISHER_ID = '0e6f6d3c-7a38-4b55-9d5a-6f2f3c9d2a10';
const SECRET_ENV = 'ONEDRIVE_CONNECTOR_EMBEDDED_SECRET';
/**
 * 7 days less 15 minutes: the first run lists exactly this far back (never the window overlap before
 * it), just inside the window planner's 10-minute margin of the API's 7-day limit.
 */
export const EMBEDDED_LOOKBACK_HOURS = 167.75;

export interface EmbeddedRunOptions<S extends SimulatorHandle = RunningSimulator> {
  simulator: SimulatorOptions;
  /** Starts the simulator; default startSimulator(simulator) in this thread (`demo`: startSimulatorThread). */
  startSimulator?: (options: SimulatorOptions) => Promise<S>;
  brokers: string[];
  deliveryMode: 'exactly-once' | 'at-least-once';
  /** Topic names get this prefix so a run's output is easy to find and never mixed with another's. */
  topicPrefix: string;
  /** Give up waiting for the backlog after this long. */
  timeoutMs: number;
  metricsPort: number;
  /** First-run lookback; default EMBEDDED_LOOKBACK_HOURS (`replay` uses just the recording's span). */
  firstRunLookbackHours?: number;
  logger: Logger;
  /** Called about twice a second while the backlog drains. */
  onProgress?: (progress: EmbeddedProgress) => void;
  /**
   * Replaces "every tenant caught up with the simulator's present" as the end condition, checked
   * with each progress snapshot (`replay`: every recorded blob collected, src/fixtures/replay.ts).
   */
  isComplete?: (run: { simulator: S; connector: Connector; config: ConnectorConfig; progress: EmbeddedProgress }) => boolean;
  /** Aborted by SIGTERM/SIGINT: start-up is cut short, or the wait for the backlog ends; then a clean stop. */
  signal?: AbortSignal;
}

export interface EmbeddedProgress {
  elapsedMs: number;
  tenants: Array<{ id: string; scenario: string; status: TenantStatus; published: number; caughtUp: boolean }>;
}

export interface EmbeddedRunResult<S extends SimulatorHandle = RunningSimulator> {
  config: ConnectorConfig;
  simulator: S;
  caughtUp: boolean;
  elapsedMs: number;
  drained: boolean;
  /** The run was stopped by a signal before the backlog was collected. */
  interrupted: boolean;
  statuses: Record<string, TenantStatus>;
  metricsUrl: string | undefined;
  /** prom-client's JSON view of the registry, read after the run. */
  metrics: Awaited<ReturnType<Connector['metrics']['registry']['getMetricsAsJSON']>>;
}

/** Statuses that need a tenant admin: such tenants never catch up and are not waited for. */
const NEEDS_ADMIN = new Set(['audit-disabled', 'consent-missing', 'permission-missing', 'auth-failed']);

export function embeddedConfig(sim: SimulatorHandle, options: Pick<EmbeddedRunOptions, 'brokers' | 'deliveryMode' | 'topicPrefix' | 'metricsPort' | 'firstRunLookbackHours'>, caFile: string): ConnectorConfig {
  const input: ConnectorConfigInput = {
    connector: {
      publisherIdentifier: EMBEDDED_PUBLISHER_ID,
      deliveryMode: options.deliveryMode,
      // Not the full 168 h: the oldest minutes of the 7 days expire while the backlog is collected.
      firstRunLookbackHours: options.firstRunLookbackHours ?? EMBEDDED_LOOKBACK_HOURS,
      pollIntervalSeconds: 2,
      // Simulated tenants come and go in seconds: no idle back-off.
      idlePollIntervalSeconds: 2,
      windowEndLagSeconds: 0,
      shutdownTimeoutSeconds: 20,
      maxBackoffSeconds: 5,
    },
    auth: { clientId: sim.clientId, clientSecret: { env: SECRET_ENV } },
    endpoints: { loginBaseUrl: sim.baseUrl, apiBaseUrl: sim.baseUrl, caFile },
    tenants: sim.tenants.map((t) => ({ id: t.id, displayName: t.name, plan: t.plan })),
    kafka: {
      brokers: options.brokers,
      topics: {
        events: `${options.topicPrefix}file-events.v1`,
        deadLetter: `${options.topicPrefix}dead-letter.v1`,
        cursors: `${options.topicPrefix}cursors.v1`,
        // Per run too: a shared published-ids topic made a later run with the same seed (same tenant
        // and record ids) drop every event as already published.
        publishedIds: `${options.topicPrefix}published-ids.v1`,
        // Per run as well: the registry is the tenants' source of truth, a shared one would mix runs' tenants.
        registry: `${options.topicPrefix}tenants.v1`,
        connectionStatus: `${options.topicPrefix}connection-status.v1`,
        drives: `${options.topicPrefix}drives.v1`,
        sweepDigests: `${options.topicPrefix}sweep-digests.v1`,
      },
      // Per run: runs sharing a broker would otherwise fence each other's transactional producer.
      transactionalIdPrefix: `${options.topicPrefix}connector`,
      compression: 'gzip',
    },
    metrics: { enabled: true, host: '127.0.0.1', port: options.metricsPort, perTenantDetail: true },
    log: { level: 'warn' },
  };
  return parseConfig(input, 'embedded configuration');
}

/**
 * Simulator in process → connector → Kafka, until every tenant that can be collected has caught up
 * with the simulator's present (or the timeout passes); then a clean stop. Used by `replay`, `demo`
 * and the end-to-end tests.
 */
export async function runEmbedded<S extends SimulatorHandle = RunningSimulator>(options: EmbeddedRunOptions<S>): Promise<EmbeddedRunResult<S>> {
  // Without a starter S is its default, RunningSimulator: what startSimulator gives.
  const sim = options.startSimulator === undefined ? ((await startSimulator(options.simulator)) as unknown as S) : await options.startSimulator(options.simulator);
  const dir = await mkdtemp(join(tmpdir(), 'onedrive-connector-embedded-'));
  try {
    const caFile = join(dir, 'simulator-ca.pem');
    await writeFile(caFile, sim.caPem);
    const config = embeddedConfig(sim, options, caFile);
    const connector = await createConnector(config, { logger: options.logger, env: { ...process.env, [SECRET_ENV]: sim.clientSecret } });
    const started = Date.now();
    const signal = options.signal ?? new AbortController().signal;
    const stopRequested = aborted(signal);
    let startOutcome: 'started' | 'interrupted';
    try {
      const starting = connector.start();
      // Interrupted mid-start, the start may still fail later: that is expected, not an unhandled rejection.
      starting.catch(() => undefined);
      startOutcome = await Promise.race([starting.then(() => 'started' as const), stopRequested.then(() => 'interrupted' as const)]);
    } catch (error) {
      // Half-started (Kafka unreachable, port taken): close the status server and clients, or the process never ends.
      await connector.stop();
      throw error;
    }
    const scenarioOf = new Map(sim.tenants.map((t) => [t.id, t.scenario]));
    let caughtUp = false;
    while (startOutcome === 'started' && !signal.aborted && Date.now() - started < options.timeoutMs) {
      const progress = await snapshot(connector, sim, scenarioOf, started);
      options.onProgress?.(progress);
      caughtUp = options.isComplete?.({ simulator: sim, connector, config, progress }) ?? progress.tenants.every((t) => t.caughtUp || needsAdmin(t.status));
      if (caughtUp) break;
      await Promise.race([new Promise((resolve) => setTimeout(resolve, 500)), stopRequested]);
    }
    const statuses = connector.statuses();
    const metricsUrl = connector.metricsUrl();
    const { drained } = await connector.stop();
    const interrupted = signal.aborted && !caughtUp;
    return { config, simulator: sim, caughtUp, elapsedMs: Date.now() - started, drained, interrupted, statuses, metricsUrl, metrics: await connector.metrics.registry.getMetricsAsJSON() };
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Settles when `signal` aborts (never, if it never does). */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** True when the tenant listed up to the simulator's present and has nothing in flight. */
export function tenantCaughtUp(progress: { listedUpToMs: number | undefined; pendingBlobs: number } | undefined, simNowMs: number): boolean {
  return progress?.listedUpToMs !== undefined && progress.listedUpToMs >= simNowMs - 10_000 && progress.pendingBlobs === 0;
}

/** Tenants in these statuses wait for an admin; nobody should wait for them to catch up. */
export function needsAdmin(status: TenantStatus): boolean {
  return NEEDS_ADMIN.has(status.status);
}

async function snapshot(connector: Connector, sim: SimulatorHandle, scenarioOf: Map<string, string>, started: number): Promise<EmbeddedProgress> {
  const published = new Map<string, number>();
  const metric = await connector.metrics.eventsPublished.get();
  for (const value of metric.values) {
    const tenant = String(value.labels.tenant);
    published.set(tenant, (published.get(tenant) ?? 0) + value.value);
  }
  const statuses = connector.statuses();
  const progress = connector.progress();
  const simNow = sim.clock.now();
  return {
    elapsedMs: Date.now() - started,
    tenants: Object.entries(statuses).map(([id, status]) => {
      const caughtUp = tenantCaughtUp(progress[id], simNow);
      return { id, scenario: scenarioOf.get(id) ?? 'unknown', status, published: published.get(id) ?? 0, caughtUp };
    }),
  };
}
