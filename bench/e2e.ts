/**
 * End to end into the real broker: the simulator in this process (clock frozen, every blob body
 * generated up front and served from memory) → `onedrive-connector run` in a child process → Kafka.
 * Timed from the connector's start line until every expected event is published and nothing is in
 * flight. Reports events/s, blob listed → committed p50/p99 (the connector's histogram), and where the
 * CPU went: this process (simulator + bench), the connector, the broker.
 */
import { ManualClock, startSimulator } from '../src/simulator/index.ts';
import { expectedEvents } from '../test/integration/memory/expected-events.ts';
import { brokerPid, histogramQuantile, log, M, metricSum, procCpuSeconds, procMemory, selfCpuSeconds, startConnector, waitForMetrics, type StartedConnector } from './lib.ts';

export interface E2eBacklog {
  tenants: number;
  historyHours: number;
  eventsPerHour: number;
  recordsPerBlob: number;
}

export interface E2eRun {
  mode: string;
  finished: boolean;
  events: number;
  expected: number;
  blobs: number;
  seconds: number;
  eventsPerSecond: number;
  listedToCommittedP50Seconds: number | undefined;
  listedToCommittedP99Seconds: number | undefined;
  /** CPU seconds over the timed part. */
  cpu: { simulatorAndBench: number; connector: number | undefined; broker: number | undefined };
  /** The simulator's share of all CPU used in the timed part (this process counts as simulator). */
  simulatorCpuShare: number | undefined;
  peakRssMiB: number;
}

export async function e2eRun(mode: 'exactly-once' | 'at-least-once', backlog: E2eBacklog, timeoutSeconds: number, run: number): Promise<E2eRun> {
  const sim = await startSimulator({
    seed: 'bench',
    clock: new ManualClock(Date.now()),
    eventsPerHour: backlog.eventsPerHour,
    recordsPerBlob: backlog.recordsPerBlob,
    // The clock stands still, so a per-minute quota would never refill: quota is measured elsewhere.
    quotaPerMinute: 1_000_000_000,
    blobBodiesInMemory: true,
    tenants: Array.from({ length: backlog.tenants }, () => ({ historyHours: backlog.historyHours })),
  });
  let connector: StartedConnector | undefined;
  try {
    const truth = await expectedEvents(sim);
    const expected = [...truth.eventIds.values()].reduce((n, ids) => n + ids.size, 0);
    const heldMiB = sim.pregenerateBlobs() / 2 ** 20;
    log(`${mode} run ${run}: ${expected} events in ${truth.blobs} blobs, ${heldMiB.toFixed(0)} MiB of bodies in memory`);
    connector = await startConnector(sim, mode);
    const { child } = connector;
    const broker = brokerPid();
    const cpu0 = { self: selfCpuSeconds(), child: procCpuSeconds(child.pid), broker: broker === undefined ? undefined : procCpuSeconds(broker) };
    const started = connector.startedAt;
    const { text, finished } = await waitForMetrics(child, started + timeoutSeconds * 1000, (t) => metricSum(t, `${M}events_published_total`) >= expected && metricSum(t, `${M}inflight_blobs`) === 0, 250);
    const seconds = (performance.now() - started) / 1000;
    const cpu = {
      simulatorAndBench: selfCpuSeconds() - cpu0.self,
      connector: diff(procCpuSeconds(child.pid), cpu0.child),
      broker: broker === undefined ? undefined : diff(procCpuSeconds(broker), cpu0.broker),
    };
    const events = metricSum(text, `${M}events_published_total`);
    const all = cpu.connector === undefined ? undefined : cpu.simulatorAndBench + cpu.connector + (cpu.broker ?? 0);
    const result: E2eRun = {
      mode,
      finished,
      events,
      expected,
      blobs: truth.blobs,
      seconds,
      eventsPerSecond: events / seconds,
      listedToCommittedP50Seconds: histogramQuantile(text, `${M}blob_listed_to_committed_seconds`, 0.5),
      listedToCommittedP99Seconds: histogramQuantile(text, `${M}blob_listed_to_committed_seconds`, 0.99),
      cpu,
      simulatorCpuShare: all === undefined || all === 0 ? undefined : cpu.simulatorAndBench / all,
      peakRssMiB: (procMemory(child.pid)?.hwm ?? 0) / 2 ** 20,
    };
    log(
      `${mode} run ${run}: ${finished ? '' : 'NOT FINISHED, '}${events}/${expected} events in ${seconds.toFixed(1)} s = ${result.eventsPerSecond.toFixed(0)}/s; ` +
        `CPU s: sim+bench ${cpu.simulatorAndBench.toFixed(1)}, connector ${cpu.connector?.toFixed(1) ?? '?'}, broker ${cpu.broker?.toFixed(1) ?? '?'}`,
    );
    return result;
  } finally {
    await connector?.close();
    await sim.close();
  }
}

function diff(after: number | undefined, before: number | undefined): number | undefined {
  return after === undefined || before === undefined ? undefined : after - before;
}
