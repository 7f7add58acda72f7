import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigResourceTypes } from 'kafkajs';
import { beforeEach, describe, expect, it } from 'vitest';
import { KafkaCheckpointStore } from '../../src/kafka/checkpoint-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createKafka } from '../../src/kafka/client.ts';
import type { Sink } from '../../src/contracts/sink.ts';
import { type DeliveredCounts, type KafkaSinkOptions, type KafkaSinkTopics } from '../../src/kafka/sink.ts';
import { createKafkaSink, type KafkaClientName } from '../../src/kafka/sink-client.ts';
import { ensureTopics } from '../../src/kafka/topics.ts';
import { MAX_DEAD_LETTER_PAYLOAD_BYTES } from '../../src/kafka/messages.ts';
import { FixedCursorSource, sampleDeadLetter, sampleEvent, sinkContract, type CommittedView } from '../contract/sink.contract.ts';
import { createTestTopics, kafkaBrokers, readAll, requireBroker, testKafka, uniqueName } from '../support/kafka.ts';
import { waitFor } from '../support/time.ts';

beforeEach(requireBroker);

/** What the killed child and its successor publish (see support/kafka-sink-child.ts). */
const KILL9_UNITS = [
  { tenant: 'tenant-a', ids: ['a1', 'a2'] },
  { tenant: 'tenant-b', ids: ['b1'] },
];

const kafka = createKafka({ clientId: 'kafka-sink-test', brokers: kafkaBrokers(), logger: silentLogger });
const source = new FixedCursorSource('tenant-a', '2026-11-20T10:00:00.000Z');
const checkpoint = { source, contentId: 'blob-1' };

async function freshTopics(partitions = 1): Promise<KafkaSinkTopics> {
  const topics = { events: uniqueName('events'), deadLetter: uniqueName('dead-letter'), cursors: uniqueName('cursors') };
  await ensureTopics(kafka, { ...topics, partitions, replicationFactor: 1 });
  return topics;
}

function sinkOptions(topics: KafkaSinkTopics, prefix: string, overrides: Partial<KafkaSinkOptions> = {}): KafkaSinkOptions {
  return {
    kafka,
    topics,
    mode: 'exactly-once',
    shard: 0,
    transactionalIdPrefix: prefix,
    compression: 'gzip',
    maxBatchMessages: 500,
    group: { intervalMs: 20, maxRecords: 10_000, maxBytes: 4 * 1024 * 1024 },
    transactionTimeoutMs: 30_000,
    logger: silentLogger,
    ...overrides,
  };
}

/** Both clients behind the Sink port run every case below (issue 7: the client is chosen on evidence). */
const CLIENTS: readonly KafkaClientName[] = ['kafkajs', 'platformatic'];
const SINK_NAMES: Record<KafkaClientName, string> = { kafkajs: 'KafkaSink (kafkajs)', platformatic: 'PlatformaticSink (@platformatic/kafka)' };

function makeSink(client: KafkaClientName, options: KafkaSinkOptions): Sink {
  const { kafka: kafkajs, ...rest } = options;
  return createKafkaSink(client, { kafka: kafkajs, clientId: 'kafka-sink-test', brokers: kafkaBrokers() }, rest);
}

const read = (topic: string, expectedCount: number) =>
  readAll(topic, { isolation: 'read_committed', expectedCount, deadlineMs: 30_000 });
const parse = (value: string | null): Record<string, unknown> => JSON.parse(value ?? 'null') as Record<string, unknown>;

for (const client of CLIENTS) sinkContract(SINK_NAMES[client], async () => {
  // A shard writes its cursors to its own partition of the cursors topic: the contract uses shards 0–4.
  const topics = await freshTopics(5);
  const sideTopic = uniqueName('side');
  await createTestTopics([sideTopic]);
  const prefix = uniqueName('contract');
  return {
    sideTopic,
    createSink: ({ mode, shard, groupIntervalMs }) =>
      makeSink(
        client,
        sinkOptions(topics, prefix, {
          mode,
          shard: shard ?? 0,
          ...(groupIntervalMs === undefined ? {} : { group: { intervalMs: groupIntervalMs, maxRecords: 10_000, maxBytes: 4 * 1024 * 1024 } }),
        }),
      ),
    committed: async (expected): Promise<CommittedView> => {
      const [events, deadLetters, cursors, keyed] = await Promise.all([
        read(topics.events, expected.events),
        read(topics.deadLetter, expected.deadLetters),
        read(topics.cursors, expected.checkpoints),
        read(sideTopic, expected.keyed ?? 0),
      ]);
      return {
        keyed: keyed.sort((a, b) => Number(a.offset) - Number(b.offset)).map((m) => ({ topic: sideTopic, key: m.key ?? '', value: m.value })),
        events: events.map((m) => ({ tenantId: m.headers['tenant-id'] ?? '', id: m.key ?? '' })),
        deadLetters: deadLetters.map((m) => {
          const v = parse(m.value);
          return { tenantId: String(v['tenantId']), reason: String(v['reason']), recordId: v['recordId'] as string | null };
        }),
        checkpoints: cursors
          .sort((a, b) => Number(a.offset) - Number(b.offset))
          .map((m) => ({ key: m.key ?? '', cursor: JSON.parse(m.value ?? 'null') as CommittedView['checkpoints'][number]['cursor'] })),
      };
    },
  };
});

describe.each(CLIENTS)('the Kafka sink on %s, on the wire', (client) => {
  it('writes events keyed by id with tenant, schema and content-type headers, in chunks', async () => {
    const topics = await freshTopics();
    const delivered: DeliveredCounts[] = [];
    const sink = makeSink(
      client,
      sinkOptions(topics, uniqueName('format'), { mode: 'at-least-once', maxBatchMessages: 2, onDelivered: (c) => delivered.push(c) }),
    );
    await sink.start();
    try {
      const unit = await sink.begin('tenant-a');
      await unit.send(['e1', 'e2', 'e3', 'e4', 'e5'].map((id) => sampleEvent(id)));
      await unit.commit();
    } finally {
      await sink.stop();
    }

    const events = await read(topics.events, 5);
    expect(events.map((m) => m.key)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(events[0]?.headers).toEqual({ 'tenant-id': 'tenant-a', 'schema-version': '1', 'content-type': 'application/json' });
    expect(parse(events[0]?.value ?? null)).toEqual(sampleEvent('e1'));
    expect(delivered).toEqual([{ events: 5, deadLetters: 0 }]);
  });

  it('caps dead-letter payloads at 64 KiB and says so', async () => {
    const topics = await freshTopics();
    const sink = makeSink(client, sinkOptions(topics, uniqueName('dead'), { now: () => new Date('2026-11-20T12:00:00.000Z') }));
    await sink.start();
    try {
      const unit = await sink.begin('tenant-a');
      await unit.deadLetter([{ ...sampleDeadLetter('big'), payload: 'é'.repeat(MAX_DEAD_LETTER_PAYLOAD_BYTES) }, sampleDeadLetter('small')]);
      await unit.commit(checkpoint);
    } finally {
      await sink.stop();
    }

    const [big, small] = await read(topics.deadLetter, 2);
    expect(big?.key).toBe('tenant-a:blob-1:big');
    expect(big?.headers).toMatchObject({ 'tenant-id': 'tenant-a', reason: 'missing-field' });
    const bigValue = parse(big?.value ?? null);
    expect(bigValue['payloadTruncated']).toBe(true);
    expect(Buffer.byteLength(String(bigValue['payload']))).toBe(MAX_DEAD_LETTER_PAYLOAD_BYTES);
    expect(bigValue['at']).toBe('2026-11-20T12:00:00.000Z');
    expect(parse(small?.value ?? null)).toMatchObject({ payload: '{"Id":"x"}', payloadTruncated: false, stage: 'normalize' });
  });

  it('reports delivery of an exactly-once unit only after commit', async () => {
    const topics = await freshTopics();
    const delivered: DeliveredCounts[] = [];
    const sink = makeSink(client, sinkOptions(topics, uniqueName('counts'), { onDelivered: (c) => delivered.push(c) }));
    await sink.start();
    try {
      const unit = await sink.begin('tenant-a');
      await unit.send([sampleEvent('e1'), sampleEvent('e2')]);
      await unit.deadLetter([sampleDeadLetter('r1')]);
      expect(delivered).toEqual([]);
      await unit.commit(checkpoint);
      expect(delivered).toEqual([{ events: 2, deadLetters: 1 }]);
    } finally {
      await sink.stop();
    }
  });

  it('writes cursors that the Kafka checkpoint store reads back, and none of aborted units', async () => {
    const topics = await freshTopics(2);
    const sink = makeSink(client, sinkOptions(topics, uniqueName('cursor')));
    await sink.start();
    try {
      const committed = await sink.begin('tenant-a');
      await committed.send([sampleEvent('e1')]);
      await committed.commit(checkpoint);
      const aborted = await sink.begin('tenant-a');
      await aborted.send([sampleEvent('e2')]);
      await aborted.abort();
    } finally {
      await sink.stop();
    }

    // The commit markers reach the partition a moment after the commit returns (the coordinator writes
    // them), and until then a read_committed reader stops before the group: read until it is visible.
    let loaded: unknown;
    await waitFor(
      async () => {
        const store = new KafkaCheckpointStore({ kafka, topic: topics.cursors, readDeadlineMs: 30_000, logger: silentLogger });
        await store.start();
        try {
          loaded = store.load(source.key);
        } finally {
          await store.stop();
        }
        return loaded !== undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the committed cursor to be readable' },
    );
    expect(loaded).toEqual(source.cursor);
  });

  it('aborts an open unit on stop so nothing of it becomes visible', async () => {
    const topics = await freshTopics();
    const sink = makeSink(client, sinkOptions(topics, uniqueName('stop')));
    await sink.start();
    const unit = await sink.begin('tenant-a');
    await unit.send([sampleEvent('never')]);
    await sink.stop();
    expect(await read(topics.events, 0)).toEqual([]);
  });
  it('commits a unit filled for longer than transactionTimeoutMs: no transaction is open while units fill', async () => {
    const topics = await freshTopics();
    const sink = makeSink(client, sinkOptions(topics, uniqueName('long-unit'), { transactionTimeoutMs: 1_000 }));
    await sink.start();
    try {
      const unit = await sink.begin('tenant-a');
      await unit.send([sampleEvent('slow-1')]);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      await unit.send([sampleEvent('slow-2')]);
      await unit.commit(checkpoint);
    } finally {
      await sink.stop();
    }
    expect((await read(topics.events, 2)).map((m) => m.key)).toEqual(['slow-1', 'slow-2']);
  });

  it('survives kill -9 between produce and commit: the new owner fences, retries the group, each event once', async () => {
    const topics = await freshTopics(2);
    const prefix = uniqueName('kill9');
    const child = spawn(process.execPath, [fileURLToPath(new URL('./support/kafka-sink-child.ts', import.meta.url))], {
      env: { ...process.env, CHILD_BROKERS: kafkaBrokers().join(','), CHILD_TOPICS: JSON.stringify(topics), CHILD_PREFIX: prefix, CHILD_CLIENT: client },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (data: Buffer) => {
          out += data.toString();
          if (out.includes('PRODUCED')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`child exited (${code}) before producing: ${out}`)));
      });
      // The group's records are in the log, its transaction still open.
      expect(await readAll(topics.events, { isolation: 'read_uncommitted', expectedCount: 3, deadlineMs: 30_000 })).toHaveLength(3);
    } finally {
      child.kill('SIGKILL');
    }

    const sink = makeSink(client, sinkOptions(topics, prefix));
    await sink.start();
    try {
      const sources = ['tenant-a', 'tenant-b'].map((tenant) => new FixedCursorSource(tenant, '2026-11-20T10:00:00.000Z'));
      await Promise.all(
        KILL9_UNITS.map(async ({ tenant, ids }, i) => {
          const unit = await sink.begin(tenant);
          await unit.send(ids.map((id) => sampleEvent(id, tenant)));
          await unit.commit({ source: sources[i % 2]!, contentId: `blob-${i}` });
        }),
      );
    } finally {
      await sink.stop();
    }
    const events = await read(topics.events, 3);
    expect(events.map((m) => m.key).sort()).toEqual(['a1', 'a2', 'b1']);
    expect(await read(topics.cursors, 2)).toHaveLength(2);
  });
});

describe('ensureTopics', () => {
  it('creates missing topics once, the cursors topic compacted', async () => {
    const layout = { events: uniqueName('events'), deadLetter: uniqueName('dead'), cursors: uniqueName('cursors'), partitions: 2, replicationFactor: 1 };
    expect((await ensureTopics(kafka, layout)).created).toHaveLength(3);
    expect((await ensureTopics(kafka, layout)).created).toEqual([]);

    const admin = testKafka('ensure-topics').admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [layout.cursors, layout.events].map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy'] })),
      });
      const policy = (name: string) =>
        described.resources.find((r) => r.resourceName === name)?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue;
      expect(policy(layout.cursors)).toBe('compact');
      expect(policy(layout.events)).toBe('delete');
      const metadata = await admin.fetchTopicMetadata({ topics: [layout.events] });
      expect(metadata.topics[0]?.partitions).toHaveLength(2);
    } finally {
      await admin.disconnect();
    }
  });
});
