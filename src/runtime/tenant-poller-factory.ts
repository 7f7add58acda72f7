import type { LimitFunction } from 'p-limit';
import type { INetworkModule } from '@azure/msal-node';
import type { Agent } from 'undici';
import { AUDIT_SHAREPOINT } from '../contracts/audit-record.ts';
import type { CheckpointStore } from '../contracts/checkpoint.ts';
import type { Clock } from '../contracts/clock.ts';
import type { DeliveredLog } from '../contracts/delivered-log.ts';
import type { ConnectorError } from '../contracts/errors.ts';
import type { Sink } from '../contracts/sink.ts';
import type { TenantRecord } from '../contracts/tenant-registry.ts';
import type { ConnectorConfig, TenantConfig } from '../config/schema.ts';
import type { DriveIndex } from '../lifecycle/drives.ts';
import { verifyAccess } from '../lifecycle/verify.ts';
import type { RecentEventIds } from '../pipeline/recent-event-ids.ts';
import type { BlobSpool } from '../source/blob-spool.ts';
import { ManagementApiClient } from '../source/o365/api-client.ts';
import { tenantEndpoints } from '../source/o365/endpoints.ts';
import { RateBudget } from '../source/o365/rate-budget.ts';
import { createMsalTokenProvider, type ClientCredential } from '../source/o365/token-provider.ts';
import { TenantPoller, type TenantPollerDeps } from '../source/poller/tenant-poller.ts';
import { TenantSweep } from '../source/sweep/tenant-sweep.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { normalize } from '../transform/normalize/index.ts';

/** What every tenant's poller shares: built once by the composition root (connector.ts). */
export interface SharedPollerParts {
  config: ConnectorConfig;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  credential: ClientCredential;
  networkClient: INetworkModule;
  agent: Agent;
  sink: Sink;
  store: CheckpointStore;
  spool: BlobSpool;
  /** Blobs in flight over all tenants. */
  globalLimit: LimitFunction;
  /** Tenants starting (token, subscription, first listing) at once. */
  startGate: LimitFunction;
  recentIdsOf: (tenantId: string) => RecentEventIds;
  /** The sweep's memory of delivered blobs; undefined when the sweep is off. */
  delivered: DeliveredLog | undefined;
  drives: DriveIndex;
  onFatal: (tenantId: string, error: ConnectorError) => void;
}

/** One tenant's poller and API client; the supervisor asks for one as tenants come and go. */
export function createTenantPoller(
  parts: SharedPollerParts,
  tenant: TenantConfig,
  lifecycle: Pick<TenantPollerDeps, 'conditions' | 'initialCursor'> = {},
  startDelayMs = 0,
): { poller: TenantPoller; api: ManagementApiClient } {
  const { config, clock, logger, metrics, delivered } = parts;
  const c = config.connector;
  const endpoints = tenantEndpoints(config, tenant);
  const budget = new RateBudget(tenant.requestsPerMinute ?? c.requestsPerMinute, clock);
  const apiOptions = {
    endpoints,
    publisherIdentifier: c.publisherIdentifier,
    tokens: createMsalTokenProvider({ clientId: config.auth.clientId, credential: parts.credential, endpoints, networkClient: parts.networkClient }),
    dispatcher: parts.agent,
    clock,
    metrics,
    logger: logger.child({ tenant: tenant.id }),
    timeoutMs: c.requestTimeoutSeconds * 1000,
    maxBackoffMs: c.maxBackoffSeconds * 1000,
  };
  const api = new ManagementApiClient({ ...apiOptions, budget });
  // The sweep lists with the same token and quota, but only takes what live polling leaves over.
  const sweep =
    delivered === undefined
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
  const poller = new TenantPoller({
    tenantId: tenant.id,
    api,
    sink: parts.sink,
    store: parts.store,
    spool: parts.spool,
    globalLimit: parts.globalLimit,
    startGate: parts.startGate,
    normalize: (record) => normalize(record, { tenantId: tenant.id, now: () => new Date(clock.now()) }),
    recentIds: parts.recentIdsOf(tenant.id),
    clock,
    metrics,
    logger,
    onFatal: (error) => parts.onFatal(tenant.id, error),
    sideRecords: { forEvents: (tenantId, events) => parts.drives.forEvents(tenantId, events) },
    verifyAccess: () => verifyAccess(() => api.accessToken()),
    ...lifecycle,
    ...(sweep === undefined || delivered === undefined ? {} : { delivered, sweep }),
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
      idlePollIntervalMs: c.idlePollIntervalSeconds * 1000,
    },
  });
  return { poller, api };
}

/** The poller-facing view of a registry record. */
export function tenantConfigOf(record: TenantRecord): TenantConfig {
  return { id: record.id, displayName: record.displayName, cloud: record.cloud, plan: record.plan, ...(record.requestsPerMinute === undefined ? {} : { requestsPerMinute: record.requestsPerMinute }) };
}
