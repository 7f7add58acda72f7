import { readFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import type { Agent } from 'undici';
import { AUDIT_SHAREPOINT } from '../contracts/audit-record.ts';
import type { CheckpointStore } from '../contracts/checkpoint.ts';
import type { DeliveredLog } from '../contracts/delivered-log.ts';
import { systemClock, type Clock } from '../contracts/clock.ts';
import { ConnectorError } from '../contracts/errors.ts';
import type { Sink } from '../contracts/sink.ts';
import { resolveSecret } from '../config/load.ts';
import type { ConnectorConfig, TenantConfig } from '../config/schema.ts';
import { KafkaCheckpointStore } from '../kafka/checkpoint-store.ts';
import { createKafkaDeliveredLog } from '../kafka/digest-store.ts';
import { loadPublishedIds } from '../kafka/published-ids.ts';
import { RecentEventIds } from '../pipeline/recent-event-ids.ts';
import { createKafka } from '../kafka/client.ts';
import { KafkaHealth } from '../kafka/health.ts';
import { resolveKafkaSecurity } from '../kafka/security.ts';
import { KafkaSink } from '../kafka/sink.ts';
import { ensureTopics } from '../kafka/topics.ts';
import { BlobSpool, probeSpoolDirectory } from '../source/blob-spool.ts';
import { ManagementApiClient } from '../source/o365/api-client.ts';
import { tenantEndpoints } from '../source/o365/endpoints.ts';
import { createHttpAgent } from '../source/o365/http.ts';
import { msalNetworkClient } from '../source/o365/msal-network.ts';
import { countTokenRequests } from '../source/o365/token-metrics.ts';
import { RateBudget } from '../source/o365/rate-budget.ts';
import { createMsalTokenProvider, type ClientCredential } from '../source/o365/token-provider.ts';
import { TenantPoller } from '../source/poller/tenant-poller.ts';
import { TenantSweep } from '../source/sweep/tenant-sweep.ts';
import type { TenantStatus } from '../source/poller/tenant-status.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createMetrics, enableProcessMetrics, type Metrics } from '../telemetry/metrics.ts';
import { normalize } from '../transform/normalize/index.ts';
import { ByteBudget } from '../util/byte-budget.ts';
import { startStatusServer, type ReadinessCheck } from './status-server.ts';

export interface ConnectorDeps {
  logger: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  metrics?: Metrics;
  /** Replace the Kafka sink and store (unit tests); production always uses Kafka. */
  sink?: Sink;
  store?: CheckpointStore;
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
  const sink =
    deps.sink ??
    new KafkaSink({
      kafka,
      topics: config.kafka.topics,
      mode: c.deliveryMode,
      shard: config.kafka.shard,
      transactionalIdPrefix: config.kafka.transactionalIdPrefix,
      compression: config.kafka.compression,
      maxBatchMessages: c.publishBatchEvents,
      group: {
        intervalMs: config.kafka.groupCommitIntervalMs,
        maxRecords: config.kafka.groupCommitMaxRecords,
        maxBytes: config.kafka.groupCommitMaxBytes,
      },
      transactionTimeoutMs: config.kafka.transactionTimeoutSeconds * 1000,
      logger,
    });
  const store = deps.store ?? new KafkaCheckpointStore({ kafka, topic: config.kafka.topics.cursors, readDeadlineMs: 120_000, logger });

  const sweepOn = c.sweep.enabled && (deps.delivered !== undefined || deps.sink === undefined);
  const delivered = !sweepOn
    ? undefined
    : (deps.delivered ??
      createKafkaDeliveredLog({
        kafka,
        topic: config.kafka.topics.sweepDigests,
        tenants: new Set(config.tenants.map((t) => t.id)),
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
  let reportFatal: (error: ConnectorError) => void = () => undefined;
  let fatalCode: string | undefined;
  const fatal = new Promise<ConnectorError>((resolve) => (reportFatal = resolve));

  const recentIds = new Map(config.tenants.map((tenant) => [tenant.id, new RecentEventIds(c.dedupeEventIdsPerTenant)]));
  /** The one place a tenant's poller is built (a supervisor starting pollers from a registry uses it too). */
  const createTenantPoller = (tenant: TenantConfig, startDelayMs = 0): TenantPoller => {
    const endpoints = tenantEndpoints(config, tenant);
    const tenantLogger = logger.child({ tenant: tenant.id });
    const budget = new RateBudget(tenant.requestsPerMinute ?? c.requestsPerMinute, clock);
    const apiOptions = {
      endpoints,
      publisherIdentifier: c.publisherIdentifier,
      tokens: createMsalTokenProvider({ clientId: config.auth.clientId, credential, endpoints, networkClient }),
      dispatcher: agent,
      clock,
      metrics,
      logger: tenantLogger,
      timeoutMs: c.requestTimeoutSeconds * 1000,
      maxBackoffMs: c.maxBackoffSeconds * 1000,
    };
    const api = new ManagementApiClient({ ...apiOptions, budget });
    // The sweep lists with the same token and quota, but only takes what live polling leaves over.
    const sweep = !sweepOn || delivered === undefined
      ? undefined
      : new TenantSweep({
          tenantId: tenant.id,
          key: { tenantId: tenant.id, contentType: AUDIT_SHAREPOINT },
          api: new ManagementApiClient({ ...apiOptions, budget: budget.background() }),
          delivered,
          clock,
          metrics,
          logger,
          settings: {
            intervalMs: c.sweep.intervalMinutes * 60_000,
            startupSpreadMs: c.sweep.startupSpreadSeconds * 1000,
            overlapMs: c.windowOverlapSeconds * 1000,
            maxWindowMs: c.maxWindowHours * 3600_000,
            maxConcurrentBlobs: c.sweep.maxConcurrentBlobs,
            maxBackoffMs: c.maxBackoffSeconds * 1000,
          },
        });
    return new TenantPoller({
      tenantId: tenant.id,
      api,
      sink,
      store,
      spool,
      globalLimit,
      normalize: (record) => normalize(record, { tenantId: tenant.id, now: () => new Date(clock.now()) }),
      recentIds: recentIds.get(tenant.id) ?? new RecentEventIds(c.dedupeEventIdsPerTenant),
      clock,
      metrics,
      logger,
      onFatal: (error) => {
        fatalCode ??= error.code;
        reportFatal(error);
      },
      ...(delivered === undefined || sweep === undefined ? {} : { delivered, sweep }),
      settings: {
        pollIntervalMs: c.pollIntervalSeconds * 1000,
        firstRunLookbackMs: c.firstRunLookbackHours * 3600_000,
        overlapMs: c.windowOverlapSeconds * 1000,
        endLagMs: c.windowEndLagSeconds * 1000,
        maxWindowMs: c.maxWindowHours * 3600_000,
        blobConcurrency: c.blobConcurrencyPerTenant,
        maxInflightBlobs: c.maxInflightBlobsPerTenant,
        batchEvents: c.publishBatchEvents,
        malformedBlobAttempts: c.malformedBlobAttempts,
        maxBackoffMs: c.maxBackoffSeconds * 1000,
        idleCursorSaveIntervalMs: c.idleCursorSaveIntervalSeconds * 1000,
        startDelayMs,
      },
    });
  };
  // Thousands of tenants start spread over one poll interval (at most START_SPACING_MS apart), so
  // their token requests and listings do not all land at once, at start and every poll after.
  const spacingMs = Math.min(START_SPACING_MS, (c.pollIntervalSeconds * 1000) / Math.max(1, config.tenants.length));
  const pollers = config.tenants.map((tenant, i) => createTenantPoller(tenant, Math.floor(i * spacingMs)));

  const stopController = new AbortController();
  const runs: Array<Promise<void>> = [];
  let server: Awaited<ReturnType<typeof startStatusServer>> | undefined;
  let started = false;
  let cursorsLoaded = false;
  // Readiness inputs (docs/health.md): all must pass. Add a line for each new one.
  const readiness: ReadinessCheck[] = [
    { name: 'started', check: () => ({ ok: started, detail: 'start-up has not finished' }) },
    { name: 'cursors', check: () => ({ ok: cursorsLoaded, detail: 'the owned cursors are not loaded' }) },
    ...(kafkaHealth === undefined ? [] : [{ name: 'kafka', check: () => ({ ok: kafkaHealth.reachable(), detail: kafkaHealth.detail() }) }]),
    // A local resource every tenant needs: not ready while the spool directory cannot be written.
    { name: 'spool', check: () => ({ ok: spool.problem() === undefined, detail: spool.problem()?.message ?? '' }) },
  ];
  let stopping: Promise<{ drained: boolean }> | undefined;
  const statuses = (): Record<string, TenantStatus> => Object.fromEntries(pollers.map((p, i) => [config.tenants[i]?.id ?? String(i), p.status]));

  return {
    metrics,
    fatal,
    statuses,
    metricsUrl: () => server?.url,
    progress: () => Object.fromEntries(pollers.map((p, i) => [config.tenants[i]?.id ?? String(i), p.progress()])),
    async start() {
      // Local resources first, with errors that name the setting: nothing else is opened if they fail.
      await probeSpoolDirectory(c.spoolDirectory, c.maxInMemoryBlobBytes);
      if (config.metrics.enabled) {
        server = await startStatusServer({
          host: config.metrics.host,
          port: config.metrics.port,
          registry: metrics.registry,
          statuses,
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
          publishedIdsRetentionMs: (c.dedupeHorizonHours + 1) * 3600_000,
          sweepDigests: delivered === undefined ? undefined : config.kafka.topics.sweepDigests,
          partitions: config.kafka.topicPartitions,
          replicationFactor: config.kafka.replicationFactor,
        });
      }
      // Fence first, then read cursors: a zombie owner of this shard can no longer commit after this.
      await kafkaHealth?.start();
      await sink.start();
      await store.start();
      // read_committed after the fence, like the cursors: blobs of aborted transactions are not delivered.
      await delivered?.start();
      cursorsLoaded = true;
      // Until scale-out lands, a replica owns exactly the shard it is configured with, once fenced.
      metrics.shardsOwned.set(1);
      if (sink.transactional && deps.sink === undefined && c.dedupeEventIdsPerTenant > 0) {
        const { records } = await loadPublishedIds(kafka, {
          topic: config.kafka.topics.publishedIds,
          sinceMs: clock.now() - c.dedupeHorizonHours * 3600_000,
          tenants: new Set(recentIds.keys()),
          deadlineMs: 300_000,
          onIds: (tenantId, ids) => recentIds.get(tenantId)?.addAll(ids),
        });
        logger.info({ records }, 'Rebuilt the ids published recently, to drop repeated records');
      }
      for (const poller of pollers) runs.push(poller.run(stopController.signal));
      started = true;
      logger.info({ tenants: pollers.length, mode: c.deliveryMode, metrics: server?.url }, 'Connector started');
    },
    stop() {
      stopping ??= (async () => {
        stopController.abort(new Error('stopping'));
        const deadline = c.shutdownTimeoutSeconds * 1000;
        let timer: NodeJS.Timeout | undefined;
        const drained = await Promise.race([
          Promise.all(runs).then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadline))),
        ]);
        clearTimeout(timer);
        metrics.shardsOwned.set(0);
        await Promise.allSettled([sink.stop(), store.stop(), kafkaHealth?.stop(), delivered?.stop()]);
        await agent.close().catch(() => undefined);
        await server?.close();
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
