/**
 * Runs against the simulator's latency model (src/simulator/latency.ts) and its real per-minute quota,
 * on the system clock: how much of one tenant's quota a 7-day catch-up uses, and our time over a
 * Filebeat-like peer (peer-poller.ts) on the same simulator settings and data.
 */
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../src/simulator/index.ts';
import { expectedEvents } from '../test/integration/memory/expected-events.ts';
import { kafkaBrokers, uniqueName } from '../test/support/kafka.ts';
import { log, M, metricSum, sleep, startConnector, waitForMetrics, type StartedConnector } from './lib.ts';
import { runPeerPoller } from './peer-poller.ts';

const QUOTA_PER_MINUTE = 2000;
const FEED_ENDPOINTS = new Set(['subscriptions-start', 'subscriptions-list', 'subscriptions-content', 'blob']);

export interface QuotaRun {
  blobConcurrencyPerTenant: number;
  seconds: number;
  admitted: number;
  throttled: number;
  /** Admitted requests over what the quota allows in the measured window. */
  quotaUse: number;
  throttledShare: number;
}

/**
 * One tenant with 7 days of history (~60 blobs/h, 20 records each: more requests than the quota
 * allows), collected for `seconds`; requests counted by the simulator after a `warmupSeconds` start.
 */
export async function quotaRun(seconds: number, warmupSeconds: number, blobConcurrencyPerTenant: number | undefined): Promise<QuotaRun> {
  const sim = await startSimulator({ seed: 'bench-quota', latency: true, quotaPerMinute: QUOTA_PER_MINUTE, tenants: [{ historyHours: 170, eventsPerHour: 1200, recordsPerBlob: 20 }] });
  let connector: StartedConnector | undefined;
  try {
    const tenantId = sim.tenants[0]?.id ?? '';
    connector = await startConnector(sim, 'at-least-once', blobConcurrencyPerTenant === undefined ? {} : { connector: { blobConcurrencyPerTenant } });
    const from = Date.now() + warmupSeconds * 1000;
    await sleep((warmupSeconds + seconds) * 1000);
    const to = Date.now();
    const inWindow = sim.stats.requests.filter((r) => r.tenantId === tenantId && FEED_ENDPOINTS.has(r.endpoint) && r.at >= from && r.at < to);
    // The simulator answers AF429 as HTTP 403 by default (o365-api.md §2.2), 429 in the other styles.
    const throttled = inWindow.filter((r) => r.status === 403 || r.status === 429).length;
    const admitted = inWindow.length - throttled;
    const minutes = (to - from) / 60_000;
    const concurrency = blobConcurrencyPerTenant ?? 12;
    const result = { blobConcurrencyPerTenant: concurrency, seconds: (to - from) / 1000, admitted, throttled, quotaUse: admitted / (QUOTA_PER_MINUTE * minutes), throttledShare: inWindow.length === 0 ? 0 : throttled / inWindow.length };
    log(`quota (blobConcurrencyPerTenant ${concurrency}): ${admitted} admitted, ${throttled} throttled in ${result.seconds.toFixed(0)} s = ${(result.quotaUse * 100).toFixed(1)} % of ${QUOTA_PER_MINUTE}/min`);
    return result;
  } finally {
    await connector?.close();
    await sim.close();
  }
}

export interface PeerRun {
  blobs: number;
  events: number;
  oursSeconds: number;
  oursFinished: boolean;
  peerSeconds: number;
  peerComplete: boolean;
  peerRequests: number;
  ratio: number;
}

/** The same tenant backlog (same seed, latency model on) collected by us, then by the peer. */
export async function peerRun(historyHours: number, timeoutSeconds: number): Promise<PeerRun> {
  const options: SimulatorOptions = { seed: 'bench-peer', latency: true, quotaPerMinute: QUOTA_PER_MINUTE, tenants: [{ historyHours, eventsPerHour: 400, recordsPerBlob: 20, subscribed: ['Audit.SharePoint'] }] };
  const expectedOf = async (sim: RunningSimulator): Promise<{ ids: Set<string>; blobs: number }> => {
    const truth = await expectedEvents(sim);
    return { ids: truth.eventIds.get(sim.tenants[0]?.id ?? '') ?? new Set(), blobs: truth.blobs };
  };

  let sim = await startSimulator(options);
  let connector: StartedConnector | undefined;
  let ours: { seconds: number; finished: boolean; blobs: number; events: number };
  try {
    const truth = await expectedOf(sim);
    connector = await startConnector(sim, 'exactly-once');
    const { finished } = await waitForMetrics(connector.child, connector.startedAt + timeoutSeconds * 1000, (t) => metricSum(t, `${M}events_published_total`) >= truth.ids.size && metricSum(t, `${M}inflight_blobs`) === 0, 100);
    ours = { seconds: (performance.now() - connector.startedAt) / 1000, finished, blobs: truth.blobs, events: truth.ids.size };
    log(`peer comparison, ours: ${truth.ids.size} events in ${truth.blobs} blobs in ${ours.seconds.toFixed(1)} s${finished ? '' : ' (NOT FINISHED)'}`);
  } finally {
    await connector?.close();
    await sim.close();
  }

  sim = await startSimulator(options);
  try {
    const truth = await expectedOf(sim);
    const peer = await runPeerPoller(sim, sim.tenants[0]?.id ?? '', { brokers: kafkaBrokers(), topic: `${uniqueName('bench-peer')}.file-events.v1`, maxRequestsPerMinute: QUOTA_PER_MINUTE, contentTypes: 1, lookbackHours: 167 });
    const complete = [...truth.ids].every((id) => peer.eventIds.has(id));
    log(`peer comparison, peer: ${peer.eventIds.size}/${truth.ids.size} events, ${peer.blobs} blobs, ${peer.requests} requests in ${peer.seconds.toFixed(1)} s${complete ? '' : ' (INCOMPLETE)'}`);
    return { blobs: ours.blobs, events: ours.events, oursSeconds: ours.seconds, oursFinished: ours.finished, peerSeconds: peer.seconds, peerComplete: complete, peerRequests: peer.requests, ratio: peer.seconds / ours.seconds };
  } finally {
    await sim.close();
  }
}
