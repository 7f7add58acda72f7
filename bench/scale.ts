/**
 * Memory at the two extremes of scale, the connector alone in its own process (VmHWM, the kernel's
 * high-water mark): one tenant with a 256 MiB blob, and 10,000 configured tenants with no activity.
 */
import { ManualClock, startSimulator } from '../src/simulator/index.ts';
import { RssSampler } from '../test/integration/memory/child-connector.ts';
import { expectedEvents } from '../test/integration/memory/expected-events.ts';
import { log, M, metricSum, MiB, procCpuSeconds, sleep, startConnector, waitForMetrics, type StartedConnector } from './lib.ts';

export interface HugeBlobRun {
  finished: boolean;
  events: number;
  expected: number;
  seconds: number;
  peakRssMiB: number;
}

/** One tenant whose backlog holds one 256 MiB blob (plus an hour of ordinary ones), exactly-once. */
export async function hugeBlobRun(sizeBytes: number, timeoutSeconds: number): Promise<HugeBlobRun> {
  const sim = await startSimulator({
    seed: 'bench-huge',
    clock: new ManualClock(Date.now()),
    quotaPerMinute: 1_000_000_000,
    tenants: [{ historyHours: 1, eventsPerHour: 600, largeBlob: { sizeBytes, minutesAgo: 30 } }],
  });
  let connector: StartedConnector | undefined;
  try {
    const truth = await expectedEvents(sim);
    const expected = [...truth.eventIds.values()].reduce((n, ids) => n + ids.size, 0);
    log(`huge blob: ${(sizeBytes / MiB).toFixed(0)} MiB blob, ${expected} events in ${truth.blobs} blobs`);
    connector = await startConnector(sim, 'exactly-once');
    const sampler = new RssSampler(connector.child.pid, 200);
    const { text, finished } = await waitForMetrics(connector.child, connector.startedAt + timeoutSeconds * 1000, (t) => metricSum(t, `${M}events_published_total`) >= expected && metricSum(t, `${M}inflight_blobs`) === 0, 500);
    sampler.sample();
    sampler.stop();
    const result = {
      finished,
      events: metricSum(text, `${M}events_published_total`),
      expected,
      seconds: (performance.now() - connector.startedAt) / 1000,
      peakRssMiB: Math.max(sampler.highWaterMark, sampler.peak) / MiB,
    };
    log(`huge blob: ${finished ? '' : 'NOT FINISHED, '}${result.events}/${expected} events in ${result.seconds.toFixed(0)} s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB`);
    return result;
  } finally {
    await connector?.close();
    await sim.close();
  }
}

export interface IdleTenantsRun {
  tenants: number;
  /** Tenants that had at least one listing answered (polled at least once) when measuring ended. */
  polledTenants: number;
  seconds: number;
  peakRssMiB: number;
  /** Share of one core over the last `steadySeconds` of the run. */
  steadyCpuCores: number | undefined;
  /** Share of one core over the `steadySeconds` before POLLING_UNTIL_SECONDS: tenants still listed every poll interval. */
  pollingCpuCores: number | undefined;
  /** SIGTERM → exit. */
  stopSeconds: number;
  exitCode: number | null;
}

/** Tenants start spread over the first 60 s poll interval; the second listing of each ends by about then. */
const POLLING_UNTIL_SECONDS = 120;

/** `tenants` configured tenants with no activity at all, for `seconds`; CPU measured over the last `steadySeconds`. */
export async function idleTenantsRun(tenants: number, seconds: number, steadySeconds: number): Promise<IdleTenantsRun> {
  const sim = await startSimulator({
    seed: 'bench-idle',
    tenants: Array.from({ length: tenants }, () => ({ historyHours: 1, eventsPerHour: 0, subscribed: ['Audit.SharePoint'] })),
  });
  let connector: StartedConnector | undefined;
  try {
    log(`idle tenants: ${tenants} tenants for ${seconds} s`);
    // A fleet's configuration: the default poll intervals (60 s, 300 s once idle) and no per-tenant
    // metric detail. The embedded runs' 2 s polls would list 10,000 tenants 5,000 times a second.
    connector = await startConnector(sim, 'exactly-once', { connector: { pollIntervalSeconds: 60, idlePollIntervalSeconds: 300, firstRunLookbackHours: 1, windowEndLagSeconds: 60 }, metrics: { perTenantDetail: false } }, 900_000);
    const { child, startedAt } = connector;
    const sampler = new RssSampler(child.pid, 500);
    /** Share of a core the child used from `fromSeconds` to `toSeconds` after its start. */
    const cpuCores = async (fromSeconds: number, toSeconds: number): Promise<number | undefined> => {
      await sleep(Math.max(0, startedAt + fromSeconds * 1000 - performance.now()));
      const before = procCpuSeconds(child.pid);
      const from = performance.now();
      await sleep(Math.max(0, startedAt + toSeconds * 1000 - from));
      const after = procCpuSeconds(child.pid);
      return before === undefined || after === undefined ? undefined : (after - before) / ((performance.now() - from) / 1000);
    };
    // Before they are idle, every tenant is listed once per poll interval (60 s); after three empty
    // listings, once per idle interval (300 s): the steady state, measured at the end of the run.
    const pollingCpuCores = seconds >= POLLING_UNTIL_SECONDS + steadySeconds ? await cpuCores(POLLING_UNTIL_SECONDS - steadySeconds, POLLING_UNTIL_SECONDS) : undefined;
    const steadyCpuCores = await cpuCores(seconds - steadySeconds, seconds);
    sampler.sample();
    sampler.stop();
    const measuredSeconds = (performance.now() - startedAt) / 1000;
    const polled = new Set(sim.stats.requests.filter((r) => r.endpoint === 'subscriptions-content' && r.status === 200).map((r) => r.tenantId)).size;
    const stopping = performance.now();
    const exitCode = await child.stop(60_000);
    const result = {
      tenants,
      polledTenants: polled,
      seconds: measuredSeconds,
      peakRssMiB: Math.max(sampler.highWaterMark, sampler.peak) / MiB,
      steadyCpuCores,
      pollingCpuCores,
      stopSeconds: (performance.now() - stopping) / 1000,
      exitCode,
    };
    log(`idle tenants: ${polled}/${tenants} polled, peak RSS ${result.peakRssMiB.toFixed(0)} MiB, CPU ${((pollingCpuCores ?? 0) * 100).toFixed(0)} % of a core while listing every 60 s, ${((steadyCpuCores ?? 0) * 100).toFixed(0)} % once idle, stop ${result.stopSeconds.toFixed(1)} s (exit ${String(exitCode)})`);
    return result;
  } finally {
    await connector?.close();
    await sim.close();
  }
}
