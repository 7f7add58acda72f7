import { readFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import type { Agent } from 'undici';
import { AUDIT_SHAREPOINT } from '../contracts/audit-record.ts';
import type { CheckpointStore } from '../contracts/checkpoint.ts';
import type { DeliveredLog } from '../contracts/delivered-log.ts';
import { systemClock, type Clock } from '../contracts/clock.ts';
import { ConnectorError } from '../contracts/errors.ts';
import type { KeyedRecord, Sink } from '../contracts/sink.ts';
import { resolveSecret } from '../config/load.ts';
import type { ConnectorConfig } from '../config/schema.ts';
import type { TenantRegistry } from '../contracts/tenant-registry.ts';
import { KafkaTenantRegistry } from '../kafka/registry.ts';
import { MemoryTenantRegistry } from '../lifecycle/memory-registry.ts';
import { seedRegistry } from '../lifecycle/records.ts';
import { DriveIndex } from '../lifecycle/drives.ts';
import { readToEnd } from '../kafka/read-to-end.ts';
import type { ConnectionStatus } from '../lifecycle/state-machine.ts';
import { Supervisor, type StatusEvent, type TenantRuntimeFactory } from '../lifecycle/supervisor.ts';
import { tenantStatusOf } from '../lifecycle/reasons.ts';
import { KafkaCheckpointStore } from '../kafka/checkpoint-store.ts';
import { createKafkaDeliveredLog } from '../kafka/digest-store.ts';
import { loadPublishedIds } from '../kafka/published-ids.ts';
import { RecentEventIds } from '../pipeline/recent-event-ids.ts';
import { createKafka } from '../kafka/client.ts';
import { KafkaHealth } from '../kafka/health.ts';
import { resolveKafkaSecurity } from '../kafka/security.ts';
import { ensureTopics } from '../kafka/topics.ts';
import type { ShardsStatus } from '../contracts/shards.ts';
import { BlobSpool, probeSpoolDirectory } from '../source/blob-spool.ts';
import { createHttpAgent } from '../source/o365/http.ts';
import { msalNetworkClient } from '../source/o365/msal-network.ts';
import { countTokenRequests } from '../source/o365/token-metrics.ts';
import type { ClientCredential } from '../source/o365/token-provider.ts';
import type { TenantPoller } from '../source/poller/tenant-poller.ts';
import { describeStatus, type TenantStatus } from '../source/poller/tenant-status.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createMetrics, enableProcessMetrics, type Metrics } from '../telemetry/metrics.ts';
import { ByteBudget } from '../util/byte-budget.ts';
import { startStatusServer, type ReadinessCheck } from './status-server.ts';
import { startAdminApi, type AdminApi } from './admin-api.ts';
import { createScaleOut, type ScaleOut, type ShardTakeOver } from './scale-out.ts';
import { createTenantPoller, tenantConfigOf, type SharedPollerParts } from './tenant-poller-factory.ts';

export interface ConnectorDeps {
  logger: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  metrics?: Metrics;
  /** Replace the Kafka sink and store (unit tests); production always uses Kafka. */
  sink?: Sink;
  store?: CheckpointStore;
  /** lifecycle seam: replaces the Kafka tenant registry (unit tests); defaults to in-memory when `sink` is replaced. */
  registry?: TenantRegistry;
  /** Replace the Kafka digests of the reconciliation sweep (unit tests); with `sink` but without this, no sweep runs. */
  delivered?: DeliveredLog;
}

export interface Connector {
  start(): Promise<void>;
  /** Stops new work, drains in-flight deliveries within shutdownTimeoutSeconds, commits the acked prefix. */
  stop(): Promise<{ drained: boolean }>;
  statuses(): Record<string, TenantStatus>;
  progress(): Record<string, { listedUpToMs: number | undefined; pendingBlobs: number }>;
  readonly metrics: Metrics;
  /** Where /metrics and /status are served, once started (undefined when disabled). */
  metricsUrl(): string | undefined;
  /** Settles when the connector cannot continue (e.g. fenced by a newer owner of its shard). */
  readonly fatal: Promise<ConnectorError>;
  /** lifecycle seam: the tenant registry and the supervisor the admin API works through (after start). */
  readonly registry: TenantRegistry;
  readonly supervisor: Supervisor;
  connections(): Record<string, ConnectionStatus>;
  /** Where the admin API listens, once started (undefined when disabled). */
  adminUrl(): string | undefined;
  /** Scale-out: this replica's shards (undefined when the sink is replaced: one process owns everything). */
  shards(): ShardsStatus | undefined;
}

/** The app credential from its secret source (env or file); also used by `record` (src/fixtures). */
export async function loadCredential(config: ConnectorConfig, env: NodeJS.ProcessEnv): Promise<ClientCredential> {
  const { auth } = config;
  if (auth.clientSecret !== undefined) return { kind: 'secret', clientSecret: await resolveSecret(auth.clientSecret, env, 'auth.clientSecret') };
  if (auth.certificate === undefined) throw new Error('config validation guarantees a secret or a certificate');
  return {
    kind: 'certificate',
    privateKeyPem: await resolveSecret(auth.certificate.privateKey, env, 'auth.certificate.privateKey'),
    certificatePem: await readFile(auth.certificate.certificateFile, 'utf8'),
  };
}

/** Start spacing between two tenants' first polls, at most (spread over one poll interval). */
const START_SPACING_MS = 20;
/** First polls in progress at once, across tenants. */
const START_CONCURRENCY = 32;

/**
 * The composition root: builds every part from the configuration and wires them. Nothing else
 * constructs Kafka clients, HTTP agents or pollers.
 */
export async function createConnector(config: ConnectorConfig, deps: ConnectorDeps): Promise<Connector> {
  const clock = deps.clock ?? systemClock;
  const env = deps.env ?? process.env;
  const logger = deps.logger;
  const metrics = deps.metrics ?? createMetrics(undefined, { perTenantDetail: config.metrics.perTenantDetail });
  if (deps.metrics === undefined) enableProcessMetrics(metrics);
  const c = config.connector;

  const credential = await loadCredential(config, env);
  const caPem = config.endpoints.caFile === undefined ? undefined : await readFile(config.endpoints.caFile, 'utf8');
  const agent: Agent = createHttpAgent({ caPem, timeoutMs: c.requestTimeoutSeconds * 1000 });
  const networkClient = countTokenRequests(msalNetworkClient(agent, c.requestTimeoutSeconds * 1000), metrics);

  const security = await resolveKafkaSecurity(config.kafka, env);
  const kafka = createKafka({ clientId: config.kafka.clientId, brokers: config.kafka.brokers, ...security, metrics, logger });
  // Probing needs the real cluster; tests that replace the sink and store have none.
  const kafkaHealth =
    deps.sink === undefined
      ? new KafkaHealth({
          kafka,
          intervalMs: config.kafka.healthCheckIntervalSeconds * 1000,
          timeoutMs: config.kafka.healthCheckTimeoutSeconds * 1000,
          metrics,
          logger,
        })
      : undefined;
  // Scale-out (docs/scaling.md, scale-out.ts): a sink per owned shard and the group that hands shards
  // out. Tests that replace the sink run one process that owns every tenant.
  const scaleOut: ScaleOut | undefined = deps.sink === undefined ? createScaleOut({ config, kafka, security, metrics, logger }) : undefined;
  const sink: Sink = deps.sink ?? (scaleOut as ScaleOut).sink;
  const store =
    deps.store ??
    new KafkaCheckpointStore({ kafka, topic: config.kafka.topics.cursors, readDeadlineMs: 120_000, logger, ...(scaleOut === undefined ? {} : { partitionOf: scaleOut.shardOf }) });

  const sweepOn = c.sweep.enabled && (deps.delivered !== undefined || deps.sink === undefined);
  const delivered = !sweepOn
    ? undefined
    : (deps.delivered ??
      createKafkaDeliveredLog({
        kafka,
        topic: config.kafka.topics.sweepDigests,
        tenants: scaleOut === undefined ? new Set(config.tenants.map((t) => t.id)) : { has: (tenantId: string) => scaleOut.loading(tenantId) },
        readDeadlineMs: 300_000,
        logger,
        now: () => clock.now(),
      }));

  const memory = new ByteBudget(c.maxInflightBytes, (used) => metrics.inflightBytes.set(used));
  const spool = new BlobSpool({
    memory,
    maxInMemoryBytes: c.maxInMemoryBlobBytes,
    directory: c.spoolDirectory,
    onSpill: () => metrics.spooledBlobs.inc(),
    onDiskTrouble: (failing) => {
      if (failing) metrics.spoolFailures.inc();
      metrics.spoolWritable.set(failing ? 0 : 1);
    },
  });
  metrics.spoolWritable.set(1);
  const globalLimit = pLimit(c.maxInflightBlobs);
  const startGate = pLimit(START_CONCURRENCY);
  let reportFatal: (error: ConnectorError) => void = () => undefined;
  let fatalCode: string | undefined;
  const fatal = new Promise<ConnectorError>((resolve) => (reportFatal = resolve));

  const recentIds = new Map<string, RecentEventIds>();
  const recentIdsOf = (tenantId: string): RecentEventIds => {
    let ids = recentIds.get(tenantId);
    if (ids === undefined) recentIds.set(tenantId, (ids = new RecentEventIds(c.dedupeEventIdsPerTenant)));
    return ids;
  };
  // lifecycle seam: a drive's first event announces it on the drives topic, in the same transaction.
  const drives = new DriveIndex(config.kafka.topics.drives, (drive) => metrics.drivesDiscovered.inc({ tenant: drive.tenantId, type: drive.type }));
  const pollerParts: SharedPollerParts = {
    config, clock, logger, metrics, credential, networkClient, agent,
    sink, store, spool, globalLimit, startGate, recentIdsOf, delivered, drives,
    onFatal: (tenantId, error) => {
      // With scale-out, a fenced shard or an unanswered commit is a shard hand-over, not the end.
      if (scaleOut?.absorbs(tenantId, error) === true) return;
      fatalCode ??= error.code;
      reportFatal(error);
    },
  };

  // lifecycle seam: the registry is the source of truth for tenants; the supervisor runs their pollers.
  const topics = config.kafka.topics;
  const registry = deps.registry ?? (deps.sink === undefined ? new KafkaTenantRegistry({ kafka, topic: topics.registry, readDeadlineMs: 120_000, logger }) : new MemoryTenantRegistry());
  /** Side records on their own ride in the shard's next group commit (no transaction of their own). */
  const publishSide = async (tenantId: string, records: readonly KeyedRecord[]): Promise<void> => {
    const unit = await sink.begin(tenantId);
    try {
      await unit.attach(records);
      await unit.commit();
    } catch (error) {
      await unit.abort().catch(() => undefined);
      throw error;
    }
  };
  const pollers = new Map<string, TenantPoller>();
  // Thousands of tenants start spread over one poll interval (at most START_SPACING_MS apart), so
  // their token requests and listings do not all land at once, at start and every poll after.
  let startedAtMs: number | undefined;
  let initialStarts = 0;
  // Counted once at start: registry.list() clones every record, and once per tenant started it was
  // O(tenants²) — 31 s of CPU for 2,000 tenants.
  let tenantsAtStart = 0;
  const startDelayMs = (): number => {
    if (startedAtMs === undefined || clock.now() - startedAtMs >= c.pollIntervalSeconds * 1000) return 0;
    const spacingMs = Math.min(START_SPACING_MS, (c.pollIntervalSeconds * 1000) / Math.max(1, tenantsAtStart));
    return Math.floor(initialStarts++ * spacingMs);
  };
  const createRuntime: TenantRuntimeFactory = (record, conditions, initialCursor) => {
    const { poller, api } = createTenantPoller(pollerParts, tenantConfigOf(record), { conditions, initialCursor }, startDelayMs());
    // The id only: a closure over `record` kept a copy of the whole registry record per tenant.
    const tenantId = record.id;
    return {
      run: async (signal) => {
        pollers.set(tenantId, poller);
        try {
          await poller.run(signal);
        } finally {
          if (pollers.get(tenantId) === poller) pollers.delete(tenantId);
        }
      },
      stopSubscription: () => api.stopSubscription(AUDIT_SHAREPOINT, AbortSignal.timeout(c.requestTimeoutSeconds * 1000)),
      lastCursor: () => poller.currentCursor(),
    };
  };
  const cursorKey = (tenantId: string) => ({ tenantId, contentType: AUDIT_SHAREPOINT });
  const supervisor = new Supervisor({
    registry,
    createRuntime,
    cursors: { load: (tenantId) => store.load(cursorKey(tenantId)), forget: (tenantId) => store.forget(cursorKey(tenantId)) },
    publishStatus: (event: StatusEvent) =>
      publishSide(event.tenantId, [{ topic: topics.connectionStatus, key: event.tenantId, value: JSON.stringify(event), headers: { 'content-type': 'application/json' } }]),
    clock,
    logger,
    metrics,
    settings: {
      pollIntervalMs: c.pollIntervalSeconds * 1000,
      deauthorizedRetentionMs: config.lifecycle.deauthorizedRetentionDays * 86_400_000,
      sweepIntervalMs: config.lifecycle.sweepIntervalSeconds * 1000,
    },
    ...scaleOut?.supervision,
  });

  /** The ids each tenant published recently (exactly-once), to drop Microsoft's repeats; for the given tenants. */
  const loadRecentIds = async (tenants: ReadonlySet<string>): Promise<void> => {
    if (!sink.transactional || deps.sink !== undefined || c.dedupeEventIdsPerTenant <= 0 || tenants.size === 0) return;
    const { records } = await loadPublishedIds(kafka, {
      topic: config.kafka.topics.publishedIds,
      sinceMs: clock.now() - c.dedupeHorizonHours * 3600_000,
      tenants,
      deadlineMs: 300_000,
      onIds: (tenantId, ids) => recentIdsOf(tenantId).addAll(ids),
    });
    logger.info({ records, tenants: tenants.size }, 'Rebuilt the ids published recently, to drop repeated records');
  };
  /** Scale-out: what a shard's take-over reads, after its producer was fenced, and who starts its tenants. */
  const takeOver = (shardOf: ScaleOut['shardOf']): ShardTakeOver => ({
    // After the fence: the shards' partitions of the cursors and published-ids topics are complete.
    load: async (shards) => {
      if (store instanceof KafkaCheckpointStore) await store.reload();
      await loadRecentIds(new Set(registry.ids().filter((id) => shards.includes(shardOf(id)))));
      await delivered?.reload?.();
    },
    reconcileTenants: () => supervisor.rebalance(),
  });

  let server: Awaited<ReturnType<typeof startStatusServer>> | undefined;
  let admin: AdminApi | undefined;
  let started = false;
  let cursorsLoaded = false;
  // Readiness inputs (docs/health.md): all must pass. Add a line for each new one.
  const readiness: ReadinessCheck[] = [
    { name: 'started', check: () => ({ ok: started, detail: 'start-up has not finished' }) },
    { name: 'cursors', check: () => ({ ok: cursorsLoaded, detail: 'the owned cursors are not loaded' }) },
    ...(scaleOut === undefined ? [] : [scaleOut.readiness]),
    ...(kafkaHealth === undefined ? [] : [{ name: 'kafka', check: () => ({ ok: kafkaHealth.reachable(), detail: kafkaHealth.detail() }) }]),
    // A local resource every tenant needs: not ready while the spool directory cannot be written.
    { name: 'spool', check: () => ({ ok: spool.problem() === undefined, detail: spool.problem()?.message ?? '' }) },
  ];
  let stopping: Promise<{ drained: boolean }> | undefined;
  // With scale-out, /status lists the tenants of the shards owned now: a shard given up leaves at
  // once, before its pollers have drained. After stop, what the replica last ran stays readable.
  // (While stopping, the shards being handed over are already someone else's: still filtered.)
  let stopped = false;
  const shown = (id: string): boolean => scaleOut === undefined || stopped || scaleOut.owns(id);
  // A tenant without a running poller shows its connection state, or "stopped" once the connector stops.
  const statuses = (): Record<string, TenantStatus> =>
    Object.fromEntries(
      Object.entries(supervisor.statuses())
        .filter(([id]) => shown(id))
        .map(([id, status]) => [id, pollers.get(id)?.status ?? (stopping === undefined ? tenantStatusOf(status) : describeStatus('stopped', new Date(clock.now())))]),
    );

  return {
    metrics,
    fatal,
    statuses,
    metricsUrl: () => server?.url,
    progress: () => Object.fromEntries(Object.keys(supervisor.statuses()).map((id) => [id, pollers.get(id)?.progress() ?? { listedUpToMs: undefined, pendingBlobs: 0 }])),
    registry,
    supervisor,
    connections: () => supervisor.statuses(),
    adminUrl: () => admin?.url,
    shards: () => scaleOut?.status(),
    // Start order: local resources (spool, /metrics) → topics → the single owner's fence and cursors →
    // registry, drives, config seed → supervisor → scale-out's shard group (per shard: fence, cursors,
    // tenants) → admin API, whose operations wait on the supervisor.
    async start() {
      // Local resources first, with errors that name the setting: nothing else is opened if they fail.
      await probeSpoolDirectory(c.spoolDirectory, c.maxInMemoryBlobBytes);
      if (config.metrics.enabled) {
        server = await startStatusServer({
          host: config.metrics.host,
          port: config.metrics.port,
          registry: metrics.registry,
          statuses,
          ...(scaleOut === undefined ? {} : { shards: () => scaleOut.status() }),
          started: () => started,
          readiness,
        }).catch((error: unknown) => {
          throw new ConnectorError('METRICS_PORT_UNAVAILABLE', `Cannot serve /metrics on ${config.metrics.host}:${config.metrics.port} (metrics.host, metrics.port): ${(error as Error).message}`, {
            stage: 'config',
            retriable: false,
            cause: error,
          });
        });
      }
      if (config.kafka.createTopics && deps.sink === undefined) {
        await ensureTopics(kafka, {
          events: config.kafka.topics.events,
          deadLetter: config.kafka.topics.deadLetter,
          cursors: config.kafka.topics.cursors,
          publishedIds: config.kafka.topics.publishedIds,
          registry: topics.registry,
          drives: topics.drives,
          connectionStatus: topics.connectionStatus,
          publishedIdsRetentionMs: (c.dedupeHorizonHours + 1) * 3600_000,
          sweepDigests: delivered === undefined ? undefined : config.kafka.topics.sweepDigests,
          partitions: config.kafka.topicPartitions,
          shardPartitions: config.kafka.shards.count,
          replicationFactor: config.kafka.replicationFactor,
        });
      }
      await scaleOut?.checkTopics();
      // One process owning everything (replaced sink): fence first, then read cursors. With scale-out
      // each shard is fenced, then its cursors read, as the group assigns it (shard-coordinator.ts).
      await kafkaHealth?.start();
      await sink.start();
      await store.start();
      // read_committed after the fence, like the cursors: blobs of aborted transactions are not delivered.
      await delivered?.start();
      if (scaleOut === undefined) {
        cursorsLoaded = true;
        metrics.shardsOwned.set(1);
      }
      await registry.start();
      if (deps.sink === undefined) {
        await readToEnd(kafka, { topic: config.kafka.topics.drives, deadlineMs: 120_000, groupIdPrefix: 'drives', onMessage: (message) => message.key !== null && drives.remember(message.key.toString('utf8')) });
        logger.info({ drives: drives.size }, 'Loaded the drives seen so far');
      }
      const seeded = await seedRegistry(registry, config.tenants, clock.now());
      if (seeded.length > 0) logger.info({ tenants: seeded }, 'Added the config file\'s new tenants to the tenant registry');
      startedAtMs = clock.now();
      tenantsAtStart = registry.ids().length;
      supervisor.start();
      if (scaleOut !== undefined) {
        await scaleOut.start(takeOver(scaleOut.shardOf), 120_000);
        cursorsLoaded = true;
      }
      if (config.admin.enabled) {
        admin = await startAdminApi({ config, env, registry, supervisor, hasCursor: (tenantId) => store.load(cursorKey(tenantId)) !== undefined, clock, logger });
      }
      started = true;
      const owned = scaleOut?.status().owned;
      logger.info({ tenants: registry.ids().length, mode: c.deliveryMode, metrics: server?.url, ...(owned === undefined ? {} : { shards: owned }) }, 'Connector started');
    },
    // Stop order: the supervisor drains its pollers (within the deadline) → the shard group leaves →
    // sinks, stores, registry, health probe and digests stop → HTTP agent and servers close. Safe twice.
    stop() {
      stopping ??= (async () => {
        const deadline = c.shutdownTimeoutSeconds * 1000;
        let timer: NodeJS.Timeout | undefined;
        const drained = await Promise.race([
          supervisor.stop().then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadline))),
        ]);
        clearTimeout(timer);
        // Shards last: their sinks end their open groups, then the group hands them to the others.
        await scaleOut?.stop();
        metrics.shardsOwned.set(0);
        await Promise.allSettled([sink.stop(), store.stop(), registry.stop(), kafkaHealth?.stop(), delivered?.stop()]);
        await agent.close().catch(() => undefined);
        await server?.close();
        await admin?.close();
        stopped = true;
        // Never "stopped cleanly" after a start that failed or was cut short: nothing ran.
        if (!started) logger.info('Connector closed; it had not finished starting');
        else if (fatalCode !== undefined) logger.info({ drained, code: fatalCode }, 'Connector stopped after a fatal error');
        else logger.info({ drained }, drained ? 'Connector stopped cleanly' : 'Shutdown deadline passed; stopped without finishing in-flight deliveries');
        return { drained };
      })();
      return stopping;
    },
  };
}
