/**
 * `npm run bench`: a benchmark, not a test. One table, every target of issue 7 beside its measured
 * median (several runs, with the range), printed to stdout and written into BENCHMARKS.md between
 * the `bench:start` / `bench:end` markers, with the machine and the exact command. Sections:
 *   hot path      parse → normalize → serialize over one in-memory blob vs the JSON round trip (hot-path.ts)
 *   e2e           simulator (blobs from memory) → `onedrive-connector run` → real Kafka, both modes (e2e.ts)
 *   huge, idle    peak RSS for one 256 MiB blob and for 10,000 idle tenants (scale.ts)
 *   quota, peer   with the simulator's latency model: quota use of a 7-day catch-up, ratio over a
 *                 Filebeat-like peer poller (latency-runs.ts, peer-poller.ts)
 *   clients       kafkajs vs @platformatic/kafka on the sink's produce patterns (kafka-clients.ts)
 *   sinks         the Sink port on each client (KafkaSink vs PlatformaticSink), both modes (sink-clients.ts)
 * Needs a broker at KAFKA_BROKERS (scripts/kafka.sh start). Everything drives the connector through
 * its CLI and config file, so it runs unchanged on any branch. Knobs (environment, defaults below):
 * BENCH_RUNS, BENCH_SKIP (comma list of sections), BENCH_WRITE=0 (do not touch BENCHMARKS.md) and the
 * per-section sizes read in main().
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { e2eRun, type E2eRun } from './e2e.ts';
import { measureHotPath, type HotPathRun } from './hot-path.ts';
import { compareKafkaClients, type ClientRun } from './kafka-clients.ts';
import { peerRun, quotaRun, type PeerRun, type QuotaRun } from './latency-runs.ts';
import { envNumber, log, median } from './lib.ts';
import { hugeBlobRun, idleTenantsRun, type HugeBlobRun, type IdleTenantsRun } from './scale.ts';
import { compareSinkClients, sinkClientRows, sinkWorkloadFromEnv, type SinkClientRun } from './sink-clients.ts';

const MB = 1e6;
const MiB = 2 ** 20;

interface Row {
  measurement: string;
  target: string;
  values: number[];
  unit: string;
  digits?: number;
  /** True when the median meets the target; undefined when there is no target. */
  met?: boolean | undefined;
  note?: string;
}

function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function rowText(row: Row): string {
  const digits = row.digits ?? 0;
  const m = row.values.length === 0 ? '—' : fmt(median(row.values), digits);
  const range = row.values.length < 2 ? '' : `${fmt(Math.min(...row.values), digits)}–${fmt(Math.max(...row.values), digits)}`;
  const met = row.met === undefined ? '' : row.met ? 'yes' : '**no**';
  return `| ${row.measurement} | ${row.target} | ${m} ${row.unit} | ${range} | ${row.values.length} | ${met} | ${row.note ?? ''} |`;
}

function machine(): Record<string, string | number> {
  const kafka = (() => {
    try {
      return execFileSync('sed', ['-n', 's:.*<kafka.version>\\(.*\\)</kafka.version>.*:\\1:p', 'scripts/kafka/pom.xml'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kafka,
    commit,
    loadAverageAtStart: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

async function main(): Promise<void> {
  const runs = envNumber('BENCH_RUNS', 3);
  const skip = new Set((process.env['BENCH_SKIP'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
  const on = (section: string): boolean => !skip.has(section);
  const sizes = {
    hotPathMB: envNumber('BENCH_HOT_PATH_MB', 48),
    e2e: {
      tenants: envNumber('BENCH_E2E_TENANTS', 2),
      historyHours: envNumber('BENCH_E2E_HOURS', 24),
      eventsPerHour: envNumber('BENCH_E2E_EVENTS_PER_HOUR', 2000),
      recordsPerBlob: envNumber('BENCH_RECORDS_PER_BLOB', 100),
    },
    e2eTimeoutSeconds: envNumber('BENCH_E2E_TIMEOUT_SECONDS', 30),
    hugeBlobMiB: envNumber('BENCH_HUGE_BLOB_MIB', 256),
    hugeTimeoutSeconds: envNumber('BENCH_HUGE_TIMEOUT_SECONDS', 180),
    idleTenants: envNumber('BENCH_IDLE_TENANTS', 10_000),
    idleSeconds: envNumber('BENCH_IDLE_SECONDS', 330),
    idleSteadySeconds: envNumber('BENCH_IDLE_STEADY_SECONDS', 30),
    quotaSeconds: envNumber('BENCH_QUOTA_SECONDS', 60),
    peerHours: envNumber('BENCH_PEER_HOURS', 12),
    peerTimeoutSeconds: envNumber('BENCH_PEER_TIMEOUT_SECONDS', 300),
    kafkaGroups: envNumber('BENCH_KAFKA_GROUPS', 10),
    kafkaGroupEvents: envNumber('BENCH_KAFKA_GROUP_EVENTS', 3000),
    kafkaRuns: envNumber('BENCH_KAFKA_RUNS', 2),
  };
  const info = machine();
  const startedAt = new Date();
  const wall = performance.now();
  log(`machine: ${JSON.stringify(info)}; sizes: ${JSON.stringify(sizes)}`);

  const raw: {
    hotPath?: HotPathRun[];
    e2e?: E2eRun[];
    huge?: HugeBlobRun;
    idle?: IdleTenantsRun;
    quota?: QuotaRun;
    peer?: PeerRun;
    clients?: ClientRun[];
    sinks?: SinkClientRun[];
    errors: Record<string, string>;
  } = { errors: {} };
  // A section that fails is reported as such; the others still run and the table still comes out.
  const attempt = async (section: string, work: () => Promise<void>): Promise<void> => {
    if (!on(section)) return;
    const at = performance.now();
    try {
      await work();
    } catch (error) {
      raw.errors[section] = error instanceof Error ? error.message.slice(0, 2000) : String(error);
      log(`${section} FAILED: ${raw.errors[section] ?? ''}`);
    }
    log(`${section} took ${((performance.now() - at) / 1000).toFixed(0)} s`);
  };

  await attempt('hotpath', async () => {
    // Each run takes about a second: five of them give a steadier median on a shared machine.
    raw.hotPath = await measureHotPath(sizes.hotPathMB * MB, Math.max(runs, 5), log);
  });
  await attempt('e2e', async () => {
    raw.e2e = [];
    for (let run = 1; run <= runs; run++) {
      for (const mode of ['exactly-once', 'at-least-once'] as const) raw.e2e.push(await e2eRun(mode, sizes.e2e, sizes.e2eTimeoutSeconds, run));
    }
  });
  await attempt('huge', async () => {
    raw.huge = await hugeBlobRun(sizes.hugeBlobMiB * MiB, sizes.hugeTimeoutSeconds);
  });
  await attempt('idle', async () => {
    raw.idle = await idleTenantsRun(sizes.idleTenants, sizes.idleSeconds, sizes.idleSteadySeconds);
  });
  await attempt('quota', async () => {
    raw.quota = await quotaRun(sizes.quotaSeconds, 10, undefined);
  });
  await attempt('peer', async () => {
    raw.peer = await peerRun(sizes.peerHours, sizes.peerTimeoutSeconds);
  });
  await attempt('clients', async () => {
    raw.clients = await compareKafkaClients(sizes.kafkaRuns, sizes.kafkaGroups, sizes.kafkaGroupEvents);
  });
  await attempt('sinks', async () => {
    raw.sinks = await compareSinkClients(envNumber('BENCH_SINK_RUNS', Math.max(runs, 3)), sinkWorkloadFromEnv());
  });

  const rows = tableRows(raw, sizes);
  const minutes = (performance.now() - wall) / 60_000;
  const command = `${Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_') || k === 'KAFKA_BROKERS').map(([k, v]) => `${k}=${v ?? ''}`).sort().join(' ')} npm run bench`.trim();
  const text = [
    `Run ${startedAt.toISOString()}, ${fmt(minutes, 1)} min, commit ${String(info['commit'])}. Command: \`${command}\``,
    '',
    `Machine: ${String(info['cpus'])} CPUs (${String(info['cpuModel'])}), ${String(info['memoryGiB'])} GiB, Node ${String(info['node'])}, Kafka ${String(info['kafka'])} on the same machine; load average at start ${String(info['loadAverageAtStart'])}.`,
    '',
    '| measurement | target | median | range | runs | met | notes |',
    '|---|---|---|---|---|---|---|',
    ...[...rows, ...sinkClientRows(raw.sinks ?? [])].map(rowText),
    ...(Object.keys(raw.errors).length === 0 ? [] : ['', ...Object.entries(raw.errors).map(([section, message]) => `- Section \`${section}\` failed: ${message.split('\n')[0] ?? ''}`)]),
    '',
    '<details><summary>Raw figures (JSON)</summary>',
    '',
    '```json',
    JSON.stringify({ machine: info, sizes, ...raw }, (_key, value: unknown) => (value instanceof Set ? value.size : value)),
    '```',
    '',
    '</details>',
  ].join('\n');
  process.stdout.write(`${text}\n`);
  if (process.env['BENCH_WRITE'] !== '0') writeBenchmarks(text);
}

type Sizes = { idleSteadySeconds: number; e2e: { tenants: number; historyHours: number; eventsPerHour: number; recordsPerBlob: number }; hugeBlobMiB: number; idleTenants: number; hotPathMB: number; peerHours: number; kafkaGroupEvents: number; quotaSeconds: number };

function tableRows(raw: { hotPath?: HotPathRun[]; e2e?: E2eRun[]; huge?: HugeBlobRun; idle?: IdleTenantsRun; quota?: QuotaRun; peer?: PeerRun; clients?: ClientRun[] }, sizes: Sizes): Row[] {
  const rows: Row[] = [];
  const e2e = raw.e2e ?? [];
  const backlog = `${sizes.e2e.tenants} tenants × ${sizes.e2e.historyHours} h × ${fmt(sizes.e2e.eventsPerHour)} records/h, ${sizes.e2e.recordsPerBlob} per blob`;
  for (const mode of ['exactly-once', 'at-least-once']) {
    const runs = e2e.filter((r) => r.mode === mode);
    if (runs.length === 0) continue;
    const unfinished = runs.filter((r) => !r.finished).length;
    const rate = runs.map((r) => r.eventsPerSecond);
    rows.push({ measurement: `End to end, ${mode} (${backlog})`, target: '≥ 50,000 events/s', values: rate, unit: 'events/s', met: median(rate) >= 50_000, note: unfinished > 0 ? `${unfinished} run(s) hit the time limit; rate over what was published` : '' });
    // Independent of how many cores the machine had free: what one CPU-second of the connector does.
    const perCpu = runs.filter((r) => r.cpu.connector !== undefined && r.cpu.connector > 0).map((r) => r.events / (r.cpu.connector ?? 1));
    rows.push({ measurement: `… ${mode}: events per CPU-second of the connector`, target: '(≥ 25,000 for 50,000/s on 2 cores)', values: perCpu, unit: 'events/CPU-s', note: `connector used ${fmt(median(runs.map((r) => (r.cpu.connector ?? 0) / r.seconds)) * 100)} % of a core` });
  }
  if (e2e.length > 0) {
    const share = e2e.map((r) => r.simulatorCpuShare).filter((v): v is number => v !== undefined).map((v) => v * 100);
    rows.push({ measurement: 'Simulator + bench CPU share during end to end (both modes)', target: 'not the bottleneck', values: share, unit: '%', digits: 1, note: 'of simulator + connector + broker CPU' });
    const p50 = e2e.filter((r) => r.mode === 'exactly-once').map((r) => r.listedToCommittedP50Seconds).filter((v): v is number => v !== undefined);
    const p99 = e2e.filter((r) => r.mode === 'exactly-once').map((r) => r.listedToCommittedP99Seconds).filter((v): v is number => v !== undefined);
    rows.push({ measurement: 'Blob listed → committed, p50 (exactly-once, catch-up)', target: 'reported', values: p50, unit: 's', digits: 2, note: 'from the connector histogram; a catch-up queues blobs behind each other' });
    rows.push({ measurement: 'Blob listed → committed, p99 (exactly-once, catch-up)', target: 'reported', values: p99, unit: 's', digits: 2 });
  }
  if (raw.huge) {
    const mb = (raw.huge.peakRssMiB * MiB) / MB;
    rows.push({ measurement: `Peak RSS, one ${sizes.hugeBlobMiB} MiB blob (exactly-once)`, target: '≤ 200 MB', values: [mb], unit: 'MB', met: mb <= 200, note: raw.huge.finished ? `${fmt(raw.huge.events)} events in ${fmt(raw.huge.seconds)} s` : `NOT FINISHED (${fmt(raw.huge.events)}/${fmt(raw.huge.expected)} events)` });
  }
  if (raw.idle) {
    const mb = (raw.idle.peakRssMiB * MiB) / MB;
    rows.push({ measurement: `Peak RSS, ${fmt(sizes.idleTenants)} idle tenants`, target: '≤ 512 MB', values: [mb], unit: 'MB', met: mb <= 512, note: `${fmt(raw.idle.polledTenants)} tenants polled within ${fmt(raw.idle.seconds)} s` });
    if (raw.idle.pollingCpuCores !== undefined) rows.push({ measurement: `CPU before idle, ${fmt(sizes.idleTenants)} tenants listed every 60 s`, target: 'reported', values: [raw.idle.pollingCpuCores * 100], unit: '% of a core', note: `${fmt(sizes.idleSteadySeconds)} s ending 120 s after start` });
    if (raw.idle.steadyCpuCores !== undefined) rows.push({ measurement: `CPU at steady state, ${fmt(sizes.idleTenants)} idle tenants`, target: '≤ 10 % of a core', values: [raw.idle.steadyCpuCores * 100], unit: '% of a core', met: raw.idle.steadyCpuCores <= 0.1, note: `the run's last ${fmt(sizes.idleSteadySeconds)} s: each tenant idle (3 empty listings, then one per 300 s)` });
    rows.push({ measurement: `SIGTERM → exit, ${fmt(sizes.idleTenants)} idle tenants`, target: 'well inside 30 s', values: [raw.idle.stopSeconds], unit: 's', digits: 1, met: raw.idle.stopSeconds < 15 && raw.idle.exitCode === 0, note: `exit code ${String(raw.idle.exitCode)}` });
  }
  if (raw.hotPath) {
    const ratios = raw.hotPath.map((r) => r.ratio);
    rows.push({ measurement: `Hot path: parse → normalize → serialize / JSON round trip (${fmt(raw.hotPath[0]?.records ?? 0)} records, ${sizes.hotPathMB} MB blob in memory)`, target: '≥ 0.5', values: ratios, unit: '×', digits: 2, met: median(ratios) >= 0.5, note: `pipeline ${fmt(median(raw.hotPath.map((r) => r.pipeline)))} records/s, JSON limit ${fmt(median(raw.hotPath.map((r) => r.jsonLimit)))} records/s (CPU time)` });
  }
  if (raw.quota) {
    rows.push({ measurement: `Quota use, 7-day catch-up of one tenant, 2,000 requests/min, latency model (${fmt(sizes.quotaSeconds)} s of it)`, target: '≥ 90 %', values: [raw.quota.quotaUse * 100], unit: '%', digits: 1, met: raw.quota.quotaUse >= 0.9, note: `${fmt(raw.quota.admitted)} requests admitted; default config` });
    rows.push({ measurement: 'Throttled share of those requests', target: '≤ 1 %', values: [raw.quota.throttledShare * 100], unit: '%', digits: 2, met: raw.quota.throttledShare <= 0.01, note: `${fmt(raw.quota.throttled)} throttled` });
  }
  if (raw.peer) {
    rows.push({
      measurement: `Ratio over a Filebeat-like peer (one tenant, ${sizes.peerHours} h backlog, ${fmt(raw.peer.blobs)} blobs, latency model)`,
      target: '≥ 3×, both complete',
      values: [raw.peer.ratio],
      unit: '×',
      digits: 2,
      met: raw.peer.ratio >= 3 && raw.peer.oursFinished && raw.peer.peerComplete,
      note: `ours ${fmt(raw.peer.oursSeconds, 1)} s (exactly-once)${raw.peer.oursFinished ? '' : ' NOT FINISHED'}, peer ${fmt(raw.peer.peerSeconds, 1)} s${raw.peer.peerComplete ? '' : ' INCOMPLETE'}`,
    });
  }
  for (const workload of ['transactional', 'idempotent'] as const) {
    for (const client of ['kafkajs', '@platformatic/kafka'] as const) {
      const runs = (raw.clients ?? []).filter((r) => r.client === client && r.workload === workload);
      if (runs.length === 0) continue;
      const what = workload === 'transactional' ? `transactions of ${fmt(sizes.kafkaGroupEvents)} events + published ids + 10 cursors (compacted)` : `idempotent produce, ${fmt(sizes.kafkaGroupEvents)} events per group`;
      rows.push({ measurement: `Kafka client ${client}: ${what}`, target: 'faster client wins', values: runs.map((r) => r.eventsPerSecond), unit: 'events/s', note: `median ${fmt(median(runs.map((r) => r.medianGroupMs)))} ms per group` });
    }
  }
  return rows;
}

const START = '<!-- bench:start (written by `npm run bench`; edit outside these markers) -->';
const END = '<!-- bench:end -->';

function writeBenchmarks(text: string): void {
  const path = 'BENCHMARKS.md';
  let doc: string;
  try {
    doc = readFileSync(path, 'utf8');
  } catch {
    doc = '# Benchmarks\n';
  }
  const block = `${START}\n${text}\n${END}`;
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  doc = from >= 0 && to > from ? `${doc.slice(0, from)}${block}${doc.slice(to + END.length)}` : `${doc.trimEnd()}\n\n## Latest run\n\n${block}\n`;
  writeFileSync(path, doc);
  log(`${path} updated`);
}

await main();
