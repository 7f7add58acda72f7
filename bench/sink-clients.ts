/**
 * The Sink port on both clients (issue 7, Kafka client chosen on evidence): KafkaSink (kafkajs) and
 * PlatformaticSink (@platformatic/kafka), built by src/kafka/sink-client.ts exactly as the connector
 * builds them, take the same workload — units of real normalized events from several tenants, many
 * in flight at once as the pipeline keeps them, each committed with its cursor source and published
 * ids — in exactly-once (group commit in transactions) and at-least-once (idempotent batches) mode,
 * with the configuration's default group limits and gzip. Reports events/s (wall), events per CPU-second
 * of this process (the client's own cost, steadier on a shared machine) and checks the events topic
 * holds every event. Run alone: `node bench/sink-clients.ts`.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { Cursor, CursorKey } from '../src/contracts/checkpoint.ts';
import type { FileEvent } from '../src/contracts/file-event.ts';
import type { BlobProgress, CursorSource, Sink } from '../src/contracts/sink.ts';
import { createKafkaSink, type KafkaClientName } from '../src/kafka/sink-client.ts';
import { ensureTopics } from '../src/kafka/topics.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { normalize } from '../src/transform/normalize/index.ts';
import { kafkaBrokers, uniqueName } from '../test/support/kafka.ts';
import { generatedBlob } from './hot-path.ts';
import { envNumber, log, median, selfCpuSeconds } from './lib.ts';

export type SinkMode = 'exactly-once' | 'at-least-once';

export interface SinkClientRun {
  client: KafkaClientName;
  mode: SinkMode;
  units: number;
  eventsPerUnit: number;
  concurrency: number;
  seconds: number;
  eventsPerSecond: number;
  eventsPerCpuSecond: number;
  /** Records on the events topic afterwards (read_uncommitted offsets, markers included): at least units × eventsPerUnit. */
  eventsTopicOffsets: number;
}

export interface SinkWorkload {
  units: number;
  eventsPerUnit: number;
  /** Units being filled or waiting for their group at once (the pipeline's blobs in flight). */
  concurrency: number;
  tenants: number;
}

const DEFAULT_GROUP = { intervalMs: 100, maxRecords: 20_000, maxBytes: 8 * 1024 * 1024 };

/** Real normalized events from the bench's generated records, each unit with its own ids. */
function unitEvents(workload: SinkWorkload): FileEvent[][] {
  const blob = generatedBlob(2 * 1024 * 1024);
  const values = JSON.parse(Buffer.concat(blob.chunks, blob.size).toString('utf8').replace(/^\uFEFF/, '')) as unknown[];
  const pool: FileEvent[] = [];
  for (const value of values) {
    const result = normalize(value, { tenantId: 'bench-tenant', now: () => new Date() });
    if (result.kind === 'event') pool.push(result.event);
  }
  if (pool.length === 0) throw new Error('the generated blob normalized to no events');
  return Array.from({ length: workload.units }, (_, u) =>
    Array.from({ length: workload.eventsPerUnit }, (_, i) => {
      const event = pool[(u * workload.eventsPerUnit + i) % pool.length] ?? pool[0]!;
      return { ...event, event: { ...event.event, id: `${event.event.id}-${u}-${i}` } };
    }),
  );
}

/** Every tenant moves with every blob, so each group writes one cursor per tenant in it (exactly-once). */
class MovingCursor implements CursorSource {
  readonly key: CursorKey;
  /** Blobs the sink said are durable: every unit, once, or the run is not counted. */
  durable = 0;
  constructor(tenantId: string) {
    this.key = { tenantId, contentType: 'Audit.SharePoint' };
  }
  cursorAfter(progress: ReadonlyMap<string, BlobProgress>): Cursor | undefined {
    const done = Object.fromEntries([...progress.keys()].map((id) => [id, '2026-11-20T10:00:00.000Z']));
    return { lowerBound: '2026-11-20T10:00:00.000Z', done, updatedAt: new Date().toISOString() };
  }
  committed(progress: ReadonlyMap<string, BlobProgress>): void {
    this.durable += progress.size;
  }
}

async function eventsTopicOffsets(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

async function drive(sink: Sink, units: FileEvent[][], workload: SinkWorkload, sources: MovingCursor[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < units.length) {
      const index = next++;
      const events = units[index] ?? [];
      const source = sources[index % sources.length]!;
      const unit = await sink.begin(source.key.tenantId);
      await unit.send(events);
      await unit.commit({ source, contentId: `blob-${index}`, publishedIds: events.map((e) => e.event.id) });
    }
  };
  await Promise.all(Array.from({ length: workload.concurrency }, worker));
}

export async function sinkClientRun(client: KafkaClientName, mode: SinkMode, workload: SinkWorkload, units: FileEvent[][]): Promise<SinkClientRun> {
  const brokers = kafkaBrokers();
  const kafka = new Kafka({ clientId: 'bench-sink', brokers, logLevel: logLevel.NOTHING });
  const prefix = uniqueName(`bench-sink-${client}`);
  const topics = { events: `${prefix}.file-events.v1`, deadLetter: `${prefix}.dead-letter.v1`, cursors: `${prefix}.cursors.v1`, publishedIds: `${prefix}.published-ids.v1` };
  await ensureTopics(kafka, { ...topics, partitions: 6, replicationFactor: 1 });
  const sink = createKafkaSink(
    client,
    { kafka, clientId: 'bench-sink', brokers },
    {
      topics: mode === 'exactly-once' ? topics : { ...topics, publishedIds: undefined },
      mode,
      shard: 0,
      transactionalIdPrefix: prefix,
      compression: 'gzip',
      maxBatchMessages: 500,
      group: DEFAULT_GROUP,
      transactionTimeoutMs: 60_000,
      logger: silentLogger,
    },
  );
  const sources = Array.from({ length: workload.tenants }, (_, t) => new MovingCursor(`tenant-${t}`));
  await sink.start();
  let seconds: number;
  let cpu: number;
  try {
    // One unit first: connections, metadata and the first transaction are not what we compare.
    await drive(sink, units.slice(0, 1), { ...workload, concurrency: 1 }, sources);
    const cpuAt = selfCpuSeconds();
    const at = performance.now();
    await drive(sink, units.slice(1), workload, sources);
    seconds = (performance.now() - at) / 1000;
    cpu = selfCpuSeconds() - cpuAt;
  } finally {
    await sink.stop();
  }
  const events = (units.length - 1) * workload.eventsPerUnit;
  const durable = sources.reduce((n, s) => n + s.durable, 0);
  if (durable !== units.length) throw new Error(`${client} ${mode}: ${durable} units reported durable of ${units.length}`);
  const offsets = await eventsTopicOffsets(kafka, topics.events);
  if (offsets < units.length * workload.eventsPerUnit) throw new Error(`${client} ${mode}: ${offsets} offsets on the events topic for ${units.length * workload.eventsPerUnit} events`);
  return { client, mode, units: units.length - 1, eventsPerUnit: workload.eventsPerUnit, concurrency: workload.concurrency, seconds, eventsPerSecond: events / seconds, eventsPerCpuSecond: events / cpu, eventsTopicOffsets: offsets };
}

/** Both clients, both modes, `runs` times each, alternating clients so the machine's load hits both alike. */
export async function compareSinkClients(runs: number, workload: SinkWorkload): Promise<SinkClientRun[]> {
  const units = unitEvents({ ...workload, units: workload.units + 1 });
  const out: SinkClientRun[] = [];
  for (let run = 1; run <= runs; run++) {
    for (const mode of ['exactly-once', 'at-least-once'] as const) {
      const order: KafkaClientName[] = run % 2 === 1 ? ['kafkajs', 'platformatic'] : ['platformatic', 'kafkajs'];
      for (const client of order) {
        const result = await sinkClientRun(client, mode, workload, units);
        log(`sink clients run ${run}: ${client} ${mode}: ${result.eventsPerSecond.toFixed(0)} events/s, ${result.eventsPerCpuSecond.toFixed(0)} events/CPU-s (${result.seconds.toFixed(2)} s)`);
        out.push(result);
      }
    }
  }
  return out;
}

export function sinkWorkloadFromEnv(): SinkWorkload {
  return {
    units: envNumber('BENCH_SINK_UNITS', 300),
    eventsPerUnit: envNumber('BENCH_SINK_UNIT_EVENTS', 200),
    concurrency: envNumber('BENCH_SINK_CONCURRENCY', 32),
    tenants: envNumber('BENCH_SINK_TENANTS', 10),
  };
}

if (import.meta.main) {
  const results = await compareSinkClients(envNumber('BENCH_SINK_RUNS', 3), sinkWorkloadFromEnv());
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

/** The table rows of `npm run bench` (bench/run.ts): per mode, each client's rate, and platformatic over kafkajs. */
export function sinkClientRows(runs: readonly SinkClientRun[]): Array<{ measurement: string; target: string; values: number[]; unit: string; digits?: number; note: string }> {
  const rows: Array<{ measurement: string; target: string; values: number[]; unit: string; digits?: number; note: string }> = [];
  for (const mode of ['exactly-once', 'at-least-once'] as const) {
    const of = (client: KafkaClientName) => runs.filter((r) => r.client === client && r.mode === mode);
    const [kafkajs, platformatic] = [of('kafkajs'), of('platformatic')];
    const shape = runs[0] === undefined ? '' : `${runs[0].units} units × ${runs[0].eventsPerUnit} events, ${runs[0].concurrency} in flight, 10 tenants`;
    for (const [client, list] of [['kafkajs', kafkajs], ['platformatic', platformatic]] as const) {
      if (list.length === 0) continue;
      rows.push({
        measurement: `Sink port, ${mode}, ${client === 'kafkajs' ? 'KafkaSink (kafkajs)' : 'PlatformaticSink (@platformatic/kafka)'} (${shape})`,
        target: 'faster client wins',
        values: list.map((r) => r.eventsPerSecond),
        unit: 'events/s',
        note: `${Math.round(median(list.map((r) => r.eventsPerCpuSecond))).toLocaleString('en')} events per CPU-second of the bench process`,
      });
    }
    if (kafkajs.length > 0 && platformatic.length > 0) {
      // Runs alternate the order of the clients; pairing run i of each gives one ratio per run.
      const ratios = platformatic.map((p, i) => p.eventsPerSecond / (kafkajs[i]?.eventsPerSecond ?? Number.NaN)).filter(Number.isFinite);
      rows.push({ measurement: `… ${mode}: PlatformaticSink / KafkaSink`, target: '> 1 to switch', values: ratios, unit: '×', digits: 2, note: 'same workload, same broker, runs paired' });
    }
  }
  return rows;
}
