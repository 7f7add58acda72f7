/**
 * Issue 7 item 5: many tenants per pod. `onedrive-connector run` in a child process with
 * ONEDRIVE_IDLE_TENANTS (2,000 in CI; `npm run bench` runs the full 10,000) configured tenants that
 * have no activity at all, against the simulator in this process and the real broker, exactly-once,
 * the fleet's metrics (no per-tenant detail). Measured on the child alone:
 * - peak RSS (the kernel's VmHWM) over start-up and steady state;
 * - CPU share at steady state: utime + stime from /proc/<pid>/stat over STEADY_SECONDS, once every
 *   tenant has been polled at least once;
 * - SIGTERM: time to exit 0.
 * An idle tenant must cost no Kafka traffic (a cursor that moved only with the clock is written at
 * most every idleCursorSaveIntervalSeconds) and one listing per poll. The bounds asserted are looser
 * than the targets (512 MB, 10 % of a core) because 8 engineers share this 2-core machine; the
 * figures are printed for the record. Knobs: ONEDRIVE_IDLE_TENANTS, ONEDRIVE_IDLE_STEADY_SECONDS,
 * ONEDRIVE_IDLE_MAX_RSS_MIB, ONEDRIVE_IDLE_MAX_CPU_SHARE.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { embeddedConfig } from '../../../src/cli/embedded-pipeline.ts';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/index.ts';
import { kafkaBrokers, requireBroker, uniqueName } from '../../support/kafka.ts';
import { waitFor } from '../../support/time.ts';
import { ChildConnector, metricSum, procMemory } from './child-connector.ts';

const MiB = 2 ** 20;
const TENANTS = Number(process.env['ONEDRIVE_IDLE_TENANTS'] ?? 2_000);
const STEADY_MS = Number(process.env['ONEDRIVE_IDLE_STEADY_SECONDS'] ?? 30) * 1000;
/**
 * Measured (VmHWM): one tenant ~180 MiB; 2,000 tenants 436–478 MiB in CI runs and up to 530 MiB run
 * alone (the peak is V8's heap growth while 2,000 tenants start within one 10 s poll interval, and it
 * varies with how the garbage collector's timing falls); 10,000 tenants 660–770 MiB in the bench.
 * ~20 KiB of live heap per idle tenant. The bound is 480 MiB + 48 KiB per tenant: 574 MiB at 2,000,
 * 949 MiB at 10,000. Loose on purpose: it catches a gross regression, not a small one; the measure
 * is the bench's 10,000-tenant run (target 512 MB; BENCHMARKS.md says why it is still missed).
 */
const MAX_RSS = Number(process.env['ONEDRIVE_IDLE_MAX_RSS_MIB'] ?? 480 + (TENANTS * 48) / 1024) * MiB;
const MAX_CPU_SHARE = Number(process.env['ONEDRIVE_IDLE_MAX_CPU_SHARE'] ?? 0.35);
/**
 * Shorter than the defaults (60 s, then 300 s once idle) so CI reaches the idle steady state in
 * about a minute; the ratio is the same, and the listing bound below is taken from these values.
 */
const POLL_SECONDS = Number(process.env['ONEDRIVE_IDLE_POLL_SECONDS'] ?? 10);
/** After 3 empty listings a tenant is listed every IDLE_POLL_SECONDS. */
const IDLE_POLL_SECONDS = POLL_SECONDS * 5;
const SHUTDOWN_SECONDS = 30;
const SECRET_ENV = 'ONEDRIVE_CONNECTOR_EMBEDDED_SECRET';
const M = 'onedrive_connector_';

/** One scrape, with time for the 10 MB a scrape of 10,000 tenants is. */
async function metricsText(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(60_000) });
  return response.text();
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe(`${TENANTS} idle tenants in one pod (issue 7 item 5)`, () => {
  let sim: RunningSimulator | undefined;
  let child: ChildConnector | undefined;
  let dir: string | undefined;

  beforeEach(requireBroker);
  afterEach(async () => {
    if (child !== undefined) await child.stop(10_000);
    await sim?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('stay within the memory and CPU bounds at steady state and drain on SIGTERM well inside the deadline', async () => {
    sim = await startSimulator({
      seed: 'idle',
      quotaPerMinute: 100_000,
      tenants: Array.from({ length: TENANTS }, () => ({ eventsPerHour: 0, historyHours: 2, subscribed: ['Audit.SharePoint'] })),
    });
    dir = await mkdtemp(join(tmpdir(), 'idle-tenants-'));
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, sim.caPem);
    const base = embeddedConfig(sim, { brokers: kafkaBrokers(), deliveryMode: 'exactly-once', topicPrefix: `${uniqueName('idle')}.`, metricsPort: 0 }, caFile);
    const config = {
      ...base,
      connector: {
        ...base.connector,
        pollIntervalSeconds: POLL_SECONDS,
        idlePollIntervalSeconds: IDLE_POLL_SECONDS,
        firstRunLookbackHours: 1,
        windowEndLagSeconds: 60,
        shutdownTimeoutSeconds: SHUTDOWN_SECONDS,
      },
      // The fleet's metrics: per-tenant detail is for a handful of tenants (docs/metrics.md).
      metrics: { ...base.metrics, perTenantDetail: false },
      log: { level: 'info' as const },
    };
    const configPath = join(dir, 'config.json');
    await writeFile(configPath, JSON.stringify(config));
    const logFile = join(dir, 'connector.log');
    const connector = ChildConnector.start(configPath, { ...process.env, [SECRET_ENV]: sim.clientSecret }, logFile);
    child = connector;
    const failure = (what: string): string => `${what}\nconnector log tail:\n${connector.logs()}`;

    await waitFor(() => connector.metricsUrl !== undefined || connector.exitCode !== null, { timeoutMs: 300_000, intervalMs: 200, what: 'the connector to start' });
    expect(connector.metricsUrl, failure('no metrics URL')).toBeDefined();
    const started = Date.now();
    // Every tenant has listed once (healthy) before the steady state is measured. Read from the log:
    // scraping /metrics (10 MB of text for 10,000 tenants) every few seconds would itself cost memory.
    const healthy = (): number => readFileSync(logFile, 'utf8').split('"status":"healthy","previous"').length - 1;
    await waitFor(() => healthy() >= TENANTS, { timeoutMs: 600_000, intervalMs: 1_000, what: `${TENANTS} tenants to be healthy` }).catch((error: unknown) => {
      throw new Error(failure(String(error)));
    });
    const warmUpMs = Date.now() - started;
    // Three empty listings make a tenant idle (polled every IDLE_POLL_SECONDS from then on).
    await new Promise((resolve) => setTimeout(resolve, 3 * POLL_SECONDS * 1000 + 5_000));
    const listingsBefore = sim.stats.count({ endpoint: 'subscriptions-content' });
    const cpuBefore = cpuSeconds(connector.pid);
    const steadyFrom = Date.now();
    await new Promise((resolve) => setTimeout(resolve, STEADY_MS));
    const cpuShare = (cpuSeconds(connector.pid) - cpuBefore) / ((Date.now() - steadyFrom) / 1000);
    const listings = sim.stats.count({ endpoint: 'subscriptions-content' }) - listingsBefore;
    const memory = procMemory(connector.pid);
    const text = await metricsText(connector.metricsUrl ?? '');

    const stopAt = Date.now();
    const exitCode = await connector.stop((SHUTDOWN_SECONDS + 30) * 1000);
    const stopMs = Date.now() - stopAt;
    const summary = {
      tenants: TENANTS,
      warmUpSeconds: Math.round(warmUpMs / 1000),
      vmHwmMiB: Math.round((memory?.hwm ?? 0) / MiB),
      rssMiB: Math.round((memory?.rss ?? 0) / MiB),
      steadyCpuShare: Number(cpuShare.toFixed(3)),
      steadySeconds: STEADY_MS / 1000,
      listingsPerMinute: Math.round((listings * 60_000) / STEADY_MS),
      checkpointCommits: metricSum(text, `${M}checkpoint_commits_total`),
      heapUsedMiB: Math.round(metricSum(text, `${M}nodejs_heap_size_used_bytes`) / MiB),
      heapTotalMiB: Math.round(metricSum(text, `${M}nodejs_heap_size_total_bytes`) / MiB),
      externalMiB: Math.round(metricSum(text, `${M}nodejs_external_memory_bytes`) / MiB),
      stopSeconds: Number((stopMs / 1000).toFixed(1)),
      exitCode,
    };
    console.log(`idle tenants: ${JSON.stringify(summary)}`);

    expect(exitCode, failure('clean stop')).toBe(0);
    expect(stopMs).toBeLessThan((SHUTDOWN_SECONDS * 1000) / 2);
    expect(memory?.hwm ?? Infinity, failure(`VmHWM ${summary.vmHwmMiB} MiB`)).toBeLessThanOrEqual(MAX_RSS);
    expect(cpuShare, failure(`steady CPU share ${summary.steadyCpuShare}`)).toBeLessThanOrEqual(MAX_CPU_SHARE);
    // Idle tenants are listed once per idle interval, not once per poll: at most one listing per
    // tenant per started IDLE_POLL_SECONDS of the steady window (5× fewer than at POLL_SECONDS).
    expect(listings, `listings in the steady window: ${listings}`).toBeLessThanOrEqual(TENANTS * Math.ceil(STEADY_MS / (IDLE_POLL_SECONDS * 1000)) * 1.2 + 50);
  }, 1_800_000);
});
