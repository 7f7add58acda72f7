/**
 * `npm run bench`: a benchmark, not a test. Measures
 *   (a) normalize throughput (records/s) over records from the simulator's generator,
 *   (b) parse throughput (MB/s) of one large JSON-array blob through parseRecords,
 *   (c) end to end: simulator in this process → `onedrive-connector run` in a child process → real
 *       Kafka, for a fixed synthetic backlog, in exactly-once and at-least-once modes: events/s,
 *       blobs/h and the connector's peak RSS (the kernel's VmHWM of the child).
 * (a) and (b) run BENCH_RUNS times (default 5), (c) BENCH_E2E_RUNS times per mode (default 3); the
 * median is reported with the range. Needs a broker at KAFKA_BROKERS (scripts/kafka.sh start).
 * Prints a Markdown table (copied into BENCHMARKS.md) and the raw figures as JSON.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { embeddedConfig } from '../src/cli/embedded-pipeline.ts';
import { fromBuffer, parseRecords } from '../src/parse/records.ts';
import { buildRecord } from '../src/simulator/data/records.ts';
import { buildTenantModel } from '../src/simulator/data/tenant-model.ts';
import { ManualClock, startSimulator } from '../src/simulator/index.ts';
import { rngFor } from '../src/simulator/prng.ts';
import { normalize } from '../src/transform/normalize/index.ts';
import { ChildConnector, metricSum, procMemory } from '../test/integration/memory/child-connector.ts';
import { expectedEvents } from '../test/integration/memory/expected-events.ts';
import { kafkaBrokers, uniqueName } from '../test/support/kafka.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const E2E_RUNS = Number(process.env['BENCH_E2E_RUNS'] ?? 3);
const NORMALIZE_RECORDS = 50_000;
const PARSE_BLOB_BYTES = 64 * 1024 * 1024;
/** The end-to-end backlog: tenants × hours × events per hour, 20 records per blob on average. */
const E2E = { tenants: 2, historyHours: 24, eventsPerHour: 400, recordsPerBlob: 20 };
const TENANT_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const M = 'onedrive_connector_';
const MiB = 2 ** 20;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function generatedRecords(count: number): string[] {
  const model = buildTenantModel('bench', TENANT_ID, 'contoso');
  const now = Date.UTC(2026, 0, 15, 12);
  return Array.from({ length: count }, (_, i) => JSON.stringify(buildRecord(rngFor('bench', TENANT_ID, i), model, now)));
}

/** (a) records/s of normalize alone, over parsed objects (parsing is (b)). */
function benchNormalize(): number[] {
  const records = generatedRecords(NORMALIZE_RECORDS).map((json) => JSON.parse(json) as unknown);
  const context = { tenantId: TENANT_ID, now: () => new Date() };
  for (const record of records.slice(0, 5000)) normalize(record, context);
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    let events = 0;
    for (const record of records) if (normalize(record, context).kind === 'event') events++;
    const seconds = (performance.now() - started) / 1000;
    rates.push(records.length / seconds);
    log(`normalize run ${run + 1}: ${records.length} records (${events} events) in ${seconds.toFixed(2)} s`);
  }
  return rates;
}

/** (b) MB/s of parseRecords over a JSON array blob served in 64 KiB chunks, as a download arrives. */
async function benchParse(): Promise<{ rates: number[]; bytes: number; records: number }> {
  const pool = generatedRecords(20_000);
  const parts: string[] = [];
  let size = 2;
  for (let i = 0; size < PARSE_BLOB_BYTES; i++) {
    const json = pool[i % pool.length] ?? '{}';
    parts.push(json);
    size += Buffer.byteLength(json) + 1;
  }
  const blob = Buffer.from(`[${parts.join(',')}]`, 'utf8');
  const rates: number[] = [];
  let records = 0;
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    records = 0;
    for await (const item of parseRecords(fromBuffer(blob, 64 * 1024))) if (item.kind === 'record') records++;
    const seconds = (performance.now() - started) / 1000;
    rates.push(blob.length / 1e6 / seconds);
    log(`parse run ${run + 1}: ${(blob.length / 1e6).toFixed(1)} MB, ${records} records in ${seconds.toFixed(2)} s`);
  }
  return { rates, bytes: blob.length, records };
}

interface E2eRun {
  eventsPerSecond: number;
  blobsPerHour: number;
  seconds: number;
  peakRssMiB: number;
}

/** (c) one end-to-end run: fresh topics, the connector as a child process, until every event is published. */
async function e2eRun(mode: 'exactly-once' | 'at-least-once', run: number): Promise<E2eRun> {
  const sim = await startSimulator({
    seed: 'bench',
    clock: new ManualClock(Date.now()),
    eventsPerHour: E2E.eventsPerHour,
    recordsPerBlob: E2E.recordsPerBlob,
    tenants: Array.from({ length: E2E.tenants }, () => ({ historyHours: E2E.historyHours })),
  });
  const dir = await mkdtemp(join(tmpdir(), 'bench-'));
  let child: ChildConnector | undefined;
  try {
    const truth = await expectedEvents(sim);
    const events = [...truth.eventIds.values()].reduce((n, ids) => n + ids.size, 0);
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, sim.caPem);
    const base = embeddedConfig(sim, { brokers: kafkaBrokers(), deliveryMode: mode, topicPrefix: `${uniqueName('bench')}.`, metricsPort: 0 }, caFile);
    const configPath = join(dir, 'config.json');
    await writeFile(configPath, JSON.stringify({ ...base, log: { level: 'info' } }));
    child = ChildConnector.start(configPath, { ...process.env, ONEDRIVE_CONNECTOR_EMBEDDED_SECRET: sim.clientSecret });
    const connector = child;
    const deadline = Date.now() + 600_000;
    while (connector.metricsUrl === undefined) {
      if (connector.exitCode !== null || Date.now() > deadline) throw new Error(`The connector did not start:\n${connector.logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Timed from "Connector started" (topics exist, producer fenced) to the last event acknowledged.
    const started = performance.now();
    let published = 0;
    for (;;) {
      const text = await connector.metrics();
      published = metricSum(text, `${M}events_published_total`);
      if (published >= events && metricSum(text, `${M}inflight_blobs`) === 0) break;
      if (connector.exitCode !== null || Date.now() > deadline) throw new Error(`Run did not finish (${published}/${events} events):\n${connector.logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    const peak = procMemory(connector.pid)?.hwm ?? 0;
    await connector.stop();
    const result = { eventsPerSecond: published / seconds, blobsPerHour: (truth.blobs / seconds) * 3600, seconds, peakRssMiB: peak / MiB };
    log(`${mode} run ${run + 1}: ${published} events, ${truth.blobs} blobs in ${seconds.toFixed(1)} s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB`);
    return result;
  } finally {
    await child?.stop(10_000);
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function range(values: readonly number[], digits = 0): string {
  return `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
}

async function main(): Promise<void> {
  const kafkaVersion = (() => {
    try {
      return execFileSync('sed', ['-n', 's:.*<kafka.version>\\(.*\\)</kafka.version>.*:\\1:p', 'scripts/kafka/pom.xml'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const machine = {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kafka: kafkaVersion,
    loadAverageAtStart: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
  log(`machine: ${JSON.stringify(machine)}`);
  const normalizeRates = benchNormalize();
  const parse = await benchParse();
  const e2e: Record<string, E2eRun[]> = { 'exactly-once': [], 'at-least-once': [] };
  for (let run = 0; run < E2E_RUNS; run++) {
    for (const mode of ['exactly-once', 'at-least-once'] as const) e2e[mode]?.push(await e2eRun(mode, run));
  }
  const records = E2E.tenants * E2E.historyHours * E2E.eventsPerHour;
  const rows = [
    `| (a) normalize, ${NORMALIZE_RECORDS.toLocaleString('en')} generated records, ${RUNS} runs | records/s | ${median(normalizeRates).toFixed(0)} | ${range(normalizeRates)} |`,
    `| (b) parse, one ${(parse.bytes / 1e6).toFixed(0)} MB JSON array (${parse.records.toLocaleString('en')} records), ${RUNS} runs | MB/s | ${median(parse.rates).toFixed(1)} | ${range(parse.rates, 1)} |`,
  ];
  for (const [mode, runs] of Object.entries(e2e)) {
    const label = `(c) end to end, ${mode}, ~${records.toLocaleString('en')} records, ${runs.length} runs`;
    rows.push(`| ${label} | events/s | ${median(runs.map((r) => r.eventsPerSecond)).toFixed(0)} | ${range(runs.map((r) => r.eventsPerSecond))} |`);
    rows.push(`| ${label} | blobs/h | ${median(runs.map((r) => r.blobsPerHour)).toFixed(0)} | ${range(runs.map((r) => r.blobsPerHour))} |`);
    rows.push(`| ${label} | connector peak RSS, MiB | ${median(runs.map((r) => r.peakRssMiB)).toFixed(0)} | ${range(runs.map((r) => r.peakRssMiB))} |`);
  }
  process.stdout.write(
    [
      `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, Kafka ${machine.kafka}; load average at start ${machine.loadAverageAtStart}`,
      '',
      '| measurement | unit | median | range |',
      '|---|---|---|---|',
      ...rows,
      '',
      JSON.stringify({ machine, normalizeRates, parse, e2e, backlog: E2E }),
      '',
    ].join('\n'),
  );
}

await main();
