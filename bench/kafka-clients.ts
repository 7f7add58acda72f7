/**
 * kafkajs 2.2.4 vs @platformatic/kafka 2.x against the real broker, on what our sink does:
 * (1) exactly-once group commit — transactions one after another (one open transaction per shard),
 *     each carrying a group of events over the events topic, one published-ids record and the
 *     cursor records of the tenants that moved (a compacted topic);
 * (2) at-least-once — an idempotent producer (acks=all), one produce request per group, awaited in turn.
 * Same pre-serialized messages (our real event JSON), no compression, same topics layout. Reports
 * events/s and the median time per transaction / produce. Run alone: `node bench/kafka-clients.ts`.
 */
import { Producer as PlatformaticProducer, stringSerializers } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { chunk, eventMessage, publishedIdsMessage, type OutgoingMessage } from '../src/kafka/messages.ts';
import { normalize } from '../src/transform/normalize/index.ts';
import { kafkaBrokers, uniqueName } from '../test/support/kafka.ts';
import { generatedBlob } from './hot-path.ts';
import { envNumber, log, median } from './lib.ts';

const TENANTS_PER_GROUP = 10;
/** Events per produce request: a group in one request passes the broker's 1 MiB batch limit. */
const EVENTS_PER_REQUEST = 500;
const TENANT = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

export interface ClientRun {
  client: 'kafkajs' | '@platformatic/kafka';
  workload: 'transactional' | 'idempotent';
  groups: number;
  eventsPerGroup: number;
  eventsPerSecond: number;
  medianGroupMs: number;
  /** Offsets used on the events topic (events + one commit marker per partition per transaction), as a check both wrote everything. */
  eventsTopicOffsets: number;
}

interface Topics {
  events: string;
  publishedIds: string;
  cursors: string;
}

/** One group's records: events, its published ids, the cursors of the tenants that moved. */
interface Group {
  /** The group's events in request-sized chunks. */
  events: OutgoingMessage[][];
  ids: OutgoingMessage;
  cursors: OutgoingMessage[];
}

function groups(count: number, eventsPerGroup: number): Group[] {
  const blob = generatedBlob(4 * 1024 * 1024);
  const values = JSON.parse(Buffer.concat(blob.chunks, blob.size).toString('utf8').replace(/^\uFEFF/, '')) as unknown[];
  const events: OutgoingMessage[] = [];
  for (const value of values) {
    const result = normalize(value, { tenantId: TENANT, now: () => new Date() });
    if (result.kind === 'event') events.push(eventMessage(TENANT, result.event));
  }
  return Array.from({ length: count }, (_, g) => {
    const slice = Array.from({ length: eventsPerGroup }, (_, i) => events[(g * eventsPerGroup + i) % events.length] ?? events[0]!);
    return {
      events: chunk(slice, EVENTS_PER_REQUEST),
      ids: publishedIdsMessage(TENANT, slice.map((m) => m.key)),
      cursors: Array.from({ length: TENANTS_PER_GROUP }, (_, t) => ({ key: `tenant-${t}|Audit.SharePoint`, value: JSON.stringify({ listedUpToMs: Date.now(), group: g }), headers: { 'content-type': 'application/json' } })),
    };
  });
}

async function createTopics(topics: Topics): Promise<void> {
  const admin = new Kafka({ clientId: 'bench-admin', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topics.events, numPartitions: 6 },
      { topic: topics.publishedIds, numPartitions: 1 },
      { topic: topics.cursors, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ],
  });
  await admin.disconnect();
}

async function topicOffsets(topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'bench-admin', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Runs `work` once per group, timing each; the first group warms the connection up and is not counted. */
async function timed(all: Group[], work: (group: Group) => Promise<void>): Promise<{ seconds: number; perGroupMs: number[] }> {
  const [first, ...rest] = all;
  if (first !== undefined) await work(first);
  const perGroupMs: number[] = [];
  const started = performance.now();
  for (const group of rest) {
    const at = performance.now();
    await work(group);
    perGroupMs.push(performance.now() - at);
  }
  return { seconds: (performance.now() - started) / 1000, perGroupMs };
}

async function kafkajsRun(workload: ClientRun['workload'], all: Group[], topics: Topics): Promise<{ seconds: number; perGroupMs: number[] }> {
  const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, ...(workload === 'transactional' ? { transactionalId: uniqueName('bench-kafkajs-tx') } : {}) });
  await producer.connect();
  try {
    return await timed(all, async (group) => {
      const last = [
        { topic: topics.publishedIds, messages: [group.ids] },
        { topic: topics.cursors, messages: group.cursors },
      ];
      if (workload === 'idempotent') {
        for (const messages of group.events) await producer.sendBatch({ acks: -1, topicMessages: [{ topic: topics.events, messages }] });
        return;
      }
      const transaction = await producer.transaction();
      try {
        for (const [i, messages] of group.events.entries()) {
          await transaction.sendBatch({ topicMessages: [{ topic: topics.events, messages }, ...(i === group.events.length - 1 ? last : [])] });
        }
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
    });
  } finally {
    await producer.disconnect();
  }
}

async function platformaticRun(workload: ClientRun['workload'], all: Group[], topics: Topics): Promise<{ seconds: number; perGroupMs: number[] }> {
  const producer = new PlatformaticProducer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: kafkaBrokers(),
    serializers: stringSerializers,
    idempotent: true,
    acks: -1,
    ...(workload === 'transactional' ? { transactionalId: uniqueName('bench-platformatic-tx') } : {}),
  });
  type Message = { topic: string; key: string; value: string; headers: Record<string, string> };
  const eventsOf = (messages: OutgoingMessage[]): Message[] => messages.map((m) => ({ topic: topics.events, key: m.key, value: m.value, headers: m.headers }));
  const lastOf = (group: Group): Message[] => [{ topic: topics.publishedIds, ...group.ids }, ...group.cursors.map((m) => ({ topic: topics.cursors, ...m }))];
  try {
    return await timed(all, async (group) => {
      if (workload === 'idempotent') {
        for (const messages of group.events) await producer.send({ messages: eventsOf(messages) });
        return;
      }
      const transaction = await producer.beginTransaction();
      try {
        for (const [i, messages] of group.events.entries()) {
          await transaction.send({ messages: [...eventsOf(messages), ...(i === group.events.length - 1 ? lastOf(group) : [])] });
        }
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
    });
  } finally {
    await producer.close();
  }
}

/** Both clients, both workloads, `runs` times each, alternating so load on the machine hits both alike. */
export async function compareKafkaClients(runs: number, groupCount: number, eventsPerGroup: number): Promise<ClientRun[]> {
  const all = groups(groupCount + 1, eventsPerGroup);
  const out: ClientRun[] = [];
  for (let run = 0; run < runs; run++) {
    for (const workload of ['transactional', 'idempotent'] as const) {
      for (const client of ['kafkajs', '@platformatic/kafka'] as const) {
        const prefix = uniqueName('bench-clients');
        const topics = { events: `${prefix}.file-events.v1`, publishedIds: `${prefix}.published-ids.v1`, cursors: `${prefix}.cursors.v1` };
        await createTopics(topics);
        const { seconds, perGroupMs } = client === 'kafkajs' ? await kafkajsRun(workload, all, topics) : await platformaticRun(workload, all, topics);
        const offsets = await topicOffsets(topics.events);
        const result: ClientRun = { client, workload, groups: groupCount, eventsPerGroup, eventsPerSecond: (groupCount * eventsPerGroup) / seconds, medianGroupMs: median(perGroupMs), eventsTopicOffsets: offsets };
        log(`kafka clients run ${run + 1}: ${client} ${workload}: ${result.eventsPerSecond.toFixed(0)} events/s, median ${result.medianGroupMs.toFixed(0)} ms per group of ${eventsPerGroup}; ${offsets} offsets on the events topic for ${(groupCount + 1) * eventsPerGroup} events`);
        out.push(result);
      }
    }
  }
  return out;
}

if (import.meta.main) {
  const results = await compareKafkaClients(envNumber('BENCH_RUNS', 3), envNumber('BENCH_KAFKA_GROUPS', 30), envNumber('BENCH_KAFKA_GROUP_EVENTS', 3000));
  process.stdout.write(`${JSON.stringify(results)}\n`);
}
