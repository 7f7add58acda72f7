import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the connector exports, declared once. Prometheus naming: one prefix, base units,
 * counters end in `_total`. Labels are bounded: tenant ids come from configuration, reasons and
 * actions from closed sets — never a file, user or contentId.
 */
const PREFIX = 'onedrive_connector_';

export function createMetrics(registry: Registry = new Registry()) {
  const reg = [registry];
  return {
    registry,
    records: new Counter({
      name: `${PREFIX}records_total`,
      help: 'Records read from content blobs, by outcome (published, filtered, rejected) and reason.',
      labelNames: ['tenant', 'outcome', 'reason'] as const,
      registers: reg,
    }),
    eventsPublished: new Counter({
      name: `${PREFIX}events_published_total`,
      help: 'FileEvents acknowledged by Kafka, by action.',
      labelNames: ['tenant', 'action'] as const,
      registers: reg,
    }),
    blobs: new Counter({
      name: `${PREFIX}blobs_total`,
      help: 'Content blobs by outcome: delivered, rejected (dead-lettered), retried.',
      labelNames: ['tenant', 'outcome'] as const,
      registers: reg,
    }),
    blobBytes: new Counter({
      name: `${PREFIX}blob_bytes_total`,
      help: 'Bytes of content blobs downloaded.',
      labelNames: ['tenant'] as const,
      registers: reg,
    }),
    deadLetters: new Counter({
      name: `${PREFIX}dead_letters_total`,
      help: 'Messages written to the dead-letter topic, by reason.',
      labelNames: ['tenant', 'reason'] as const,
      registers: reg,
    }),
    dataLoss: new Counter({
      name: `${PREFIX}data_loss_total`,
      help: 'Content the connector could not collect (expired blobs, windows older than the 7-day retention). Page on any increase.',
      labelNames: ['tenant', 'reason'] as const,
      registers: reg,
    }),
    apiRequests: new Counter({
      name: `${PREFIX}api_requests_total`,
      help: 'Requests to Microsoft endpoints, by endpoint and HTTP status class (or "error" for transport failures).',
      labelNames: ['tenant', 'endpoint', 'status'] as const,
      registers: reg,
    }),
    apiRequestDuration: new Histogram({
      name: `${PREFIX}api_request_duration_seconds`,
      help: 'Time to the response headers of requests to Microsoft endpoints.',
      labelNames: ['endpoint'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: reg,
    }),
    throttled: new Counter({
      name: `${PREFIX}throttled_total`,
      help: 'Throttling answers (AF429, HTTP 429) received.',
      labelNames: ['tenant'] as const,
      registers: reg,
    }),
    foreignHostRefused: new Counter({
      name: `${PREFIX}foreign_host_refused_total`,
      help: 'contentUri or NextPageUri values pointing outside the tenant API host; refused, token not sent.',
      labelNames: ['tenant', 'kind'] as const,
      registers: reg,
    }),
    inflightBlobs: new Gauge({
      name: `${PREFIX}inflight_blobs`,
      help: 'Blobs downloaded or being published right now, all tenants.',
      registers: reg,
    }),
    inflightBytes: new Gauge({
      name: `${PREFIX}inflight_bytes`,
      help: 'Blob bytes held in memory right now, all tenants.',
      registers: reg,
    }),
    spooledBlobs: new Counter({
      name: `${PREFIX}spooled_blobs_total`,
      help: 'Blobs spooled to disk because they were large or the memory budget was used up.',
      registers: reg,
    }),
    tenantStatus: new Gauge({
      name: `${PREFIX}tenant_status`,
      help: '1 for the tenant\'s current status, 0 for the others.',
      labelNames: ['tenant', 'status'] as const,
      registers: reg,
    }),
    cursorLag: new Gauge({
      name: `${PREFIX}cursor_lag_seconds`,
      help: 'Now minus the committed cursor lower bound (content availability time).',
      labelNames: ['tenant'] as const,
      registers: reg,
    }),
    checkpointCommits: new Counter({
      name: `${PREFIX}checkpoint_commits_total`,
      help: 'Cursors committed (with a transaction or to the checkpoint store).',
      labelNames: ['tenant'] as const,
      registers: reg,
    }),
    lateBlobs: new Counter({
      name: `${PREFIX}late_blobs_total`,
      help: 'Blobs the reconciliation sweep collected because Microsoft listed them later than the window overlap, by how late they were found (bounded buckets). Any increase means the overlap is too small for the tenant.',
      labelNames: ['tenant', 'lateness'] as const,
      registers: reg,
    }),
    sweepRequests: new Counter({
      name: `${PREFIX}sweep_api_requests_total`,
      help: 'Listing requests made by the reconciliation sweep (also counted in api_requests_total).',
      labelNames: ['tenant'] as const,
      registers: reg,
    }),
    sweeps: new Counter({
      name: `${PREFIX}sweeps_total`,
      help: 'Reconciliation sweeps over the retained range, by outcome (completed, failed).',
      labelNames: ['tenant', 'outcome'] as const,
      registers: reg,
    }),
    sinkWaitSeconds: new Histogram({
      name: `${PREFIX}sink_wait_seconds`,
      help: 'Time a blob waited on Kafka (send plus commit). High values mean backpressure.',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registers: reg,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

export function enableProcessMetrics(metrics: Metrics): void {
  collectDefaultMetrics({ register: metrics.registry, prefix: PREFIX });
}
