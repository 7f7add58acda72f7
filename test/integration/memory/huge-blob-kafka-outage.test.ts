/**
 * DESIGN invariant 3 (memory is bounded by configuration, not by input), measured on the real
 * process: `onedrive-connector run` in a child process collects a tenant whose backlog holds one
 * blob of BLOB_BYTES (≥ 256 MiB by default) next to ordinary blobs, while the Kafka broker is
 * stopped for OUTAGE_SECONDS in the middle of delivering that blob. The child's VmRSS is sampled
 * every 200 ms. Then: every expected event is in Kafka exactly once (ground truth from the
 * simulator, whose clock is frozen), every record is accounted for, downloads paused during the
 * outage instead of buffering the backlog, and the peak RSS stayed within
 *
 *   RSS_BOUND = BASE_RSS (160 MiB: Node 24 with kafkajs, msal, pino, zod, undici, prom-client,
 *                          collecting small blobs; measured 140–155 MiB)
 *             + maxInflightBytes (64 MiB here: blob bytes the spool may hold in memory, all tenants)
 *             + dedupeEventIdsPerTenant × tenants × 160 B (the cross-blob dedupe cache: 30.5 MiB)
 *             + WORKING_SET (224 MiB: V8 heap growth while one blob streams — parser and
 *               normalizer garbage between collections, one slice of groupCommitMaxBytes held
 *               for its group and its gzip buffers, the event ids of the blob in delivery)
 *           = 478.5 MiB with this configuration (measured peak: 419 MiB, the kernel's VmHWM)
 *
 * where only the last term grows with the input, and slowly: the event ids of the blob in delivery
 * are kept for in-blob dedupe and the published-ids records (one id, ~100 bytes in memory, per
 * ~1.3 KiB of blob: ~20 MiB for 256 MiB). Knobs (environment): ONEDRIVE_MEMORY_BLOB_BYTES (default
 * 268435456), ONEDRIVE_MEMORY_OUTAGE_SECONDS (default 20), ONEDRIVE_MEMORY_CONNECTOR_NODE_OPTIONS
 * (NODE_OPTIONS for the connector only, e.g. --max-old-space-size=192). The broker is the one
 * scripts/kafka.sh manages with this process's KAFKA_* environment (the test stops and starts it).
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { embeddedConfig } from '../../../src/cli/embedded-pipeline.ts';
import { kafkaClientOverride } from '../../support/kafka-client.ts';
import { readToEnd } from '../../../src/kafka/read-to-end.ts';
import { ManualClock, startSimulator, type RunningSimulator } from '../../../src/simulator/index.ts';
import { kafkaBrokers, requireBroker, testKafka, uniqueName } from '../../support/kafka.ts';
import { waitFor } from '../../support/time.ts';
import { ChildConnector, kafkaScript, metricSum, RssSampler } from './child-connector.ts';
import { expectedEvents as groundTruth } from './expected-events.ts';

const MiB = 2 ** 20;
const BLOB_BYTES = Number(process.env['ONEDRIVE_MEMORY_BLOB_BYTES'] ?? 256 * MiB);
const OUTAGE_MS = Number(process.env['ONEDRIVE_MEMORY_OUTAGE_SECONDS'] ?? 20) * 1000;
const SECRET_ENV = 'ONEDRIVE_CONNECTOR_EMBEDDED_SECRET';

const MAX_INFLIGHT_BYTES = 64 * MiB;
const DEDUPE_IDS_PER_TENANT = 100_000;
const TENANTS = 2;
const BLOB_CONCURRENCY_PER_TENANT = 4;
const BASE_RSS = 160 * MiB;
const WORKING_SET = 224 * MiB;
const RSS_BOUND = BASE_RSS + MAX_INFLIGHT_BYTES + DEDUPE_IDS_PER_TENANT * TENANTS * 160 + WORKING_SET;

const M = 'onedrive_connector_';

/** Event keys per tenant in the topic, read_committed; values are not kept (they would be GBs). */
async function publishedIds(topic: string): Promise<Map<string, string[]>> {
  const byTenant = new Map<string, string[]>();
  await readToEnd(testKafka('memory-test-reader'), {
    topic,
    deadlineMs: 300_000,
    groupIdPrefix: 'memory-test-reader',
    onMessage: (message) => {
      const tenant = message.headers?.['tenant-id']?.toString() ?? '';
      const list = byTenant.get(tenant) ?? [];
      list.push(message.key?.toString() ?? '');
      byTenant.set(tenant, list);
    },
  });
  return byTenant;
}

describe('memory stays bounded by configuration (DESIGN invariant 3)', () => {
  let sim: RunningSimulator | undefined;
  let child: ChildConnector | undefined;
  let sampler: RssSampler | undefined;
  let dir: string | undefined;
  let brokerDown = false;

  beforeEach(requireBroker);
  afterEach(async () => {
    sampler?.stop();
    if (child !== undefined) await child.stop(10_000);
    if (brokerDown) await kafkaScript('start');
    await sim?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    brokerDown = false;
  });

  it(`collects a ${Math.round(BLOB_BYTES / MiB)} MiB blob through a Kafka outage within ${Math.round(RSS_BOUND / MiB)} MiB RSS, complete and exactly once`, async () => {
    const started = Date.now();
    sim = await startSimulator({
      seed: 'memory',
      clock: new ManualClock(Date.now()),
      eventsPerHour: 120,
      tenants: [
        { historyHours: 48, largeBlob: { sizeBytes: BLOB_BYTES, minutesAgo: 36 * 60 } },
        { historyHours: 48 },
      ],
    });
    const [big, other] = sim.tenants;
    if (big === undefined || other === undefined || sim.tenants.length !== TENANTS) throw new Error('two tenants expected');
    const truth = await groundTruth(sim);
    const expectedEvents = [...truth.eventIds.values()].reduce((n, ids) => n + ids.size, 0);
    const truthMs = Date.now() - started;

    dir = await mkdtemp(join(tmpdir(), 'memory-test-'));
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, sim.caPem);
    const base = embeddedConfig(sim, { brokers: kafkaBrokers(), deliveryMode: 'exactly-once', topicPrefix: `${uniqueName('mem')}.`, metricsPort: 0 }, caFile);
    const config = {
      ...base,
      connector: {
        ...base.connector,
        maxInflightBytes: MAX_INFLIGHT_BYTES,
        blobConcurrencyPerTenant: BLOB_CONCURRENCY_PER_TENANT,
        spoolDirectory: dir,
        shutdownTimeoutSeconds: 30,
        // The default. A blob with more records than this cache holds flushes the ids of the blobs
        // before it, so a record Microsoft repeats across them can be published again (asserted below).
        dedupeEventIdsPerTenant: DEDUPE_IDS_PER_TENANT,
      },
      // The default transaction timeout (60 s): the huge blob is published in slices, each in a
      // short group transaction, however long the whole blob takes.
      kafka: { ...base.kafka, ...kafkaClientOverride() },
      log: { level: 'info' as const },
    };
    const configPath = join(dir, 'config.json');
    await writeFile(configPath, JSON.stringify(config, null, 2));

    const progressFile = join(dir, 'progress.log');
    const progress = (what: string): void => appendFileSync(progressFile, `${new Date().toISOString()} ${what}\n`);
    progress(`ground truth: ${expectedEvents} events, ${truth.servedRecords} records in ${truthMs} ms`);
    const nodeOptions = process.env['ONEDRIVE_MEMORY_CONNECTOR_NODE_OPTIONS'];
    const childEnv = { ...process.env, [SECRET_ENV]: sim.clientSecret, ...(nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions }) };
    const connector = ChildConnector.start(configPath, childEnv, join(dir, 'connector.log'));
    child = connector;
    const rss = new RssSampler(connector.pid, 200);
    sampler = rss;
    const failure = (what: string): string => `${what}\nRSS timeline: ${JSON.stringify(rss.timeline)}\nconnector log tail:\n${connector.logs()}`;
    const metrics = async (): Promise<string> => {
      if (connector.exitCode !== null) throw new Error(failure(`the connector exited with ${connector.exitCode}`));
      return connector.metrics();
    };

    await waitFor(() => connector.metricsUrl !== undefined || connector.exitCode !== null, { timeoutMs: 120_000, intervalMs: 100, what: 'the connector to start' });
    expect(connector.metricsUrl, failure('no metrics URL')).toBeDefined();

    // Phase 1: the huge blob has been downloaded (spilled to disk) and its delivery is under way.
    rss.phase = 'download';
    progress(`connector started: ${connector.metricsUrl ?? ''}`);
    await waitFor(
      async () => {
        const text = await metrics();
        return metricSum(text, `${M}blob_bytes_total`, { tenant: big.id }) >= BLOB_BYTES && metricSum(text, `${M}spooled_blobs_total`) >= 1;
      },
      { timeoutMs: 600_000, intervalMs: 500, what: 'the huge blob to be downloaded' },
    );
    progress('huge blob downloaded; stopping Kafka');
    const downloadedMs = Date.now() - started;

    // Phase 2: Kafka goes away in the middle of that delivery.
    rss.phase = 'outage';
    await kafkaScript('stop');
    brokerDown = true;
    const outageStart = { downloads: sim.stats.count({ endpoint: 'blob' }), at: Date.now() };
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    const duringOutage = sim.stats.count({ endpoint: 'blob' }) - outageStart.downloads;
    const publishedBeforeRestart = metricSum(await metrics(), `${M}events_published_total`);
    rss.phase = 'restart';
    progress(`restarting Kafka; ${duringOutage} downloads during the outage`);
    await kafkaScript('start');
    brokerDown = false;
    progress('Kafka serving again');
    const outageMs = Date.now() - outageStart.at;

    // Phase 3: everything arrives afterwards.
    rss.phase = 'catch-up';
    await waitFor(
      async () => {
        const text = await metrics();
        return metricSum(text, `${M}events_published_total`) >= expectedEvents && metricSum(text, `${M}records_total`) >= truth.servedRecords && metricSum(text, `${M}inflight_blobs`) === 0;
      },
      { timeoutMs: 900_000, intervalMs: 1000, what: `${expectedEvents} events to be published` },
    ).catch((error: unknown) => {
      throw new Error(failure(String(error)));
    });
    const finalMetrics = await metrics();
    progress('all events published; stopping the connector');
    rss.phase = 'stop';
    const exitCode = await connector.stop();
    rss.sample();
    rss.stop();
    const elapsedMs = Date.now() - started;

    const published = await publishedIds(config.kafka.topics.events);
    const summary = {
      blobMiB: Math.round(BLOB_BYTES / MiB),
      expectedEvents,
      servedRecords: truth.servedRecords,
      duplicates: Object.fromEntries([...published].map(([tenant, ids]) => [tenant.slice(0, 8), ids.length - new Set(ids).size])),
      peakRssMiB: Math.round(rss.peak / MiB),
      vmHwmMiB: Math.round(rss.highWaterMark / MiB),
      boundMiB: Math.round(RSS_BOUND / MiB),
      rssSamples: rss.samples,
      downloadsDuringOutage: duringOutage,
      publishedBeforeRestart,
      outageSeconds: Math.round(outageMs / 1000),
      groundTruthSeconds: Math.round(truthMs / 1000),
      hugeBlobDownloadedAfterSeconds: Math.round(downloadedMs / 1000),
      totalSeconds: Math.round(elapsedMs / 1000),
    };
    console.log(`memory test: ${JSON.stringify(summary)}`);
    console.log(`memory test RSS timeline: ${JSON.stringify(rss.timeline)}`);

    expect(exitCode, failure('clean stop')).toBe(0);
    for (const tenant of sim.tenants) {
      const expected = truth.eventIds.get(tenant.id) ?? new Set<string>();
      const ids = published.get(tenant.id) ?? [];
      const unique = new Set(ids);
      const missing = [...expected].filter((id) => !unique.has(id)).length;
      const unexpected = [...unique].filter((id) => !expected.has(id)).length;
      expect({ tenant: tenant.name, missing, unexpected }).toEqual({ tenant: tenant.name, missing: 0, unexpected: 0 });
      // No copies of our own (an aborted transaction is invisible); at most Microsoft's own repeats
      // that fell out of the dedupe cache, which only the huge blob can overflow.
      const duplicates = ids.length - unique.size;
      if (tenant.id === other.id) expect(duplicates).toBe(0);
      else expect(duplicates).toBeLessThanOrEqual(truth.repeats.get(tenant.id) ?? 0);
    }
    // Invariant 2 across the run: every record served was published, filtered or dead-lettered once.
    expect(metricSum(finalMetrics, `${M}records_total`)).toBe(truth.servedRecords);
    // The outage really happened (a broker this test cannot stop would make it vacuous) …
    expect(metricSum(finalMetrics, `${M}blobs_total`, { outcome: 'retried' })).toBeGreaterThan(0);
    // … and downloads paused: at most the blobs already in progress per tenant, not the backlog.
    expect(duringOutage).toBeLessThanOrEqual(BLOB_CONCURRENCY_PER_TENANT * sim.tenants.length);
    // VmHWM is the kernel's own peak, so a spike between two samples counts too.
    const peak = Math.max(rss.peak, rss.highWaterMark);
    expect(peak, failure(`peak RSS ${Math.round(peak / MiB)} MiB over the bound ${summary.boundMiB} MiB`)).toBeLessThanOrEqual(RSS_BOUND);
  }, 1_200_000);
});
