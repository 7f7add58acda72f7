import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type CounterConfiguration, type GaugeConfiguration, type LabelValues } from 'prom-client';
import packageJson from '../../package.json' with { type: 'json' };

/**
 * Every metric the connector exports, declared once. Prometheus naming: one prefix, base units,
 * counters end in `_total`. Labels are bounded: tenant ids come from configuration, reasons and
 * actions from closed sets — never a file, user or contentId.
 *
 * Cardinality budget (docs/metrics.md): only three metrics carry a `tenant` label by default — the
 * cursor lag, the status (one series per tenant) and the last success — because those are what an
 * operator pages and drills down on. Everything else is aggregated over tenants; call sites still pass
 * `tenant`, and `metrics.perTenantDetail: true` keeps it (for a handful of tenants, or while debugging).
 */
const PREFIX = 'onedrive_connector_';

export interface MetricsOptions {
  /** Keep the `tenant` label on the aggregated counters too (costs ~40 series per active tenant). */
  perTenantDetail?: boolean;
}

/**
 * A counter whose `tenant` label exists only with per-tenant detail. The call sites always pass it,
 * so turning detail on or off is configuration, not a code change at every call site.
 */
class TenantDetailCounter<T extends string> extends Counter<T> {
  constructor(configuration: CounterConfiguration<T>, perTenantDetail: boolean) {
    const dropTenant = !perTenantDetail && (configuration.labelNames ?? []).includes('tenant' as T);
    super({ ...configuration, labelNames: (configuration.labelNames ?? []).filter((name) => !dropTenant || name !== 'tenant') });
    if (!dropTenant) return;
    // prom-client assigns `inc` per instance in its constructor, so it is wrapped here, not overridden.
    const inc = this.inc.bind(this) as (labels?: LabelValues<T> | number, value?: number) => void;
    this.inc = ((labelsOrValue?: LabelValues<T> | number, value?: number): void => {
      if (typeof labelsOrValue !== 'object') return inc(labelsOrValue);
      const { tenant: _tenant, ...rest } = labelsOrValue as Record<string, string | number>;
      inc(rest as LabelValues<T>, value);
    }) as Counter<T>['inc'];
  }
}

function sameLabels(a: object, b: object): boolean {
  const left = Object.entries(a);
  return left.length === Object.keys(b).length && left.every(([key, value]) => (b as Record<string, unknown>)[key] === value);
}

/**
 * The tenant status as a state set with one series per tenant: setting a status to 1 replaces the
 * tenant's previous status series, and setting one to 0 removes it instead of exporting a zero, so
 * 10,000 tenants cost 10,000 series, not 10,000 × the number of statuses.
 */
class TenantStateGauge<T extends string> extends Gauge<T> {
  readonly #current = new Map<string, LabelValues<T>>();

  override set(labels: LabelValues<T>, value: number): void;
  override set(value: number): void;
  override set(labelsOrValue: LabelValues<T> | number, value?: number): void {
    if (typeof labelsOrValue !== 'object') return super.set(labelsOrValue);
    const tenant = String((labelsOrValue as Record<string, unknown>)['tenant']);
    const previous = this.#current.get(tenant);
    const same = previous !== undefined && sameLabels(previous, labelsOrValue);
    if (value === 0) {
      if (same) this.forgetTenant(tenant);
      return;
    }
    if (previous !== undefined && !same) this.remove(previous);
    this.#current.set(tenant, labelsOrValue);
    super.set(labelsOrValue, value ?? 1);
  }

  forgetTenant(tenant: string): void {
    const previous = this.#current.get(tenant);
    if (previous !== undefined) this.remove(previous);
    this.#current.delete(tenant);
  }
}

/**
 * The cursor lag, growing between updates. The poller sets it when the cursor moves (or at start);
 * between moves the lower bound stands still, so the lag grows with the clock. Computed at scrape
 * time, a tenant stuck in an error still shows its lag climbing towards the 7-day limit.
 */
class TenantLagGauge<T extends string> extends Gauge<T> {
  readonly #since = new Map<string, { labels: LabelValues<T>; seconds: number; atMs: number }>();

  constructor(configuration: GaugeConfiguration<T>) {
    super({
      ...configuration,
      collect(this: Gauge<T>) {
        if (this instanceof TenantLagGauge) this.#refresh();
      },
    });
  }

  override set(labels: LabelValues<T>, value: number): void;
  override set(value: number): void;
  override set(labelsOrValue: LabelValues<T> | number, value?: number): void {
    if (typeof labelsOrValue !== 'object') return super.set(labelsOrValue);
    this.#since.set(JSON.stringify(labelsOrValue), { labels: labelsOrValue, seconds: value ?? 0, atMs: performance.now() });
    super.set(labelsOrValue, value ?? 0);
  }

  override remove(...args: unknown[]): void {
    const [labels] = args;
    if (typeof labels === 'object' && labels !== null) this.#since.delete(JSON.stringify(labels));
    (super.remove as (...values: unknown[]) => void)(...args);
  }

  #refresh(): void {
    const now = performance.now();
    for (const { labels, seconds, atMs } of this.#since.values()) super.set(labels, seconds + (now - atMs) / 1000);
  }
}

export function createMetrics(registry: Registry = new Registry(), options: MetricsOptions = {}) {
  const reg = [registry];
  const detail = options.perTenantDetail ?? false;
  const buildInfo = new Gauge({
    name: `${PREFIX}build_info`,
    help: 'Always 1; the labels say which connector version runs on which Node.js.',
    labelNames: ['version', 'node_version'] as const,
    registers: reg,
  });
  buildInfo.set({ version: packageJson.version, node_version: process.versions.node }, 1);
  const metrics = {
    registry,
    perTenantDetail: detail,
    buildInfo,
    records: new TenantDetailCounter(
      {
        name: `${PREFIX}records_total`,
        help: 'Records read from content blobs, by outcome (published, filtered, rejected) and reason.',
        labelNames: ['tenant', 'outcome', 'reason'] as const,
        registers: reg,
      },
      detail,
    ),
    eventsPublished: new TenantDetailCounter(
      {
        name: `${PREFIX}events_published_total`,
        help: 'FileEvents acknowledged by Kafka, by action.',
        labelNames: ['tenant', 'action'] as const,
        registers: reg,
      },
      detail,
    ),
    blobs: new TenantDetailCounter(
      {
        name: `${PREFIX}blobs_total`,
        help: 'Content blobs by outcome: delivered, rejected (dead-lettered), retried.',
        labelNames: ['tenant', 'outcome'] as const,
        registers: reg,
      },
      detail,
    ),
    blobBytes: new TenantDetailCounter(
      { name: `${PREFIX}blob_bytes_total`, help: 'Bytes of content blobs downloaded.', labelNames: ['tenant'] as const, registers: reg },
      detail,
    ),
    deadLetters: new TenantDetailCounter(
      {
        name: `${PREFIX}dead_letters_total`,
        help: 'Messages written to the dead-letter topic, by reason.',
        labelNames: ['tenant', 'reason'] as const,
        registers: reg,
      },
      detail,
    ),
    dataLoss: new TenantDetailCounter(
      {
        name: `${PREFIX}data_loss_total`,
        help: 'Content the connector could not collect, by reason: expired blobs (content-expired), windows older than the 7-day retention (window-expired), the unreadable rest of a blob that stayed malformed (unparsable-content), and blobs that could not be fetched at all (foreign-host, redirected, content-not-found, request-refused, …). Page on any increase.',
        labelNames: ['tenant', 'reason'] as const,
        registers: reg,
      },
      detail,
    ),
    apiRequests: new TenantDetailCounter(
      {
        name: `${PREFIX}api_requests_total`,
        help: 'Requests to Microsoft endpoints, by endpoint and HTTP status class (or "error" for transport failures).',
        labelNames: ['tenant', 'endpoint', 'status'] as const,
        registers: reg,
      },
      detail,
    ),
    apiRequestDuration: new Histogram({
      name: `${PREFIX}api_request_duration_seconds`,
      help: 'Time to the response headers of requests to Microsoft endpoints.',
      labelNames: ['endpoint'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: reg,
    }),
    throttled: new TenantDetailCounter(
      { name: `${PREFIX}throttled_total`, help: 'Throttling answers (AF429, HTTP 429) received.', labelNames: ['tenant'] as const, registers: reg },
      detail,
    ),
    foreignHostRefused: new TenantDetailCounter(
      {
        name: `${PREFIX}foreign_host_refused_total`,
        help: 'contentUri or NextPageUri values pointing outside the tenant API host; refused, token not sent.',
        labelNames: ['tenant', 'kind'] as const,
        registers: reg,
      },
      detail,
    ),
    tokenRequests: new Counter({
      name: `${PREFIX}token_requests_total`,
      help: 'Token requests sent to Entra ID (cache hits are not requests), by outcome: acquired, rejected (4xx), unavailable (5xx or transport error).',
      labelNames: ['outcome'] as const,
      registers: reg,
    }),
    inflightBlobs: new Gauge({ name: `${PREFIX}inflight_blobs`, help: 'Blobs downloaded or being published right now, all tenants.', registers: reg }),
    inflightBytes: new Gauge({ name: `${PREFIX}inflight_bytes`, help: 'Blob bytes held in memory right now, all tenants.', registers: reg }),
    spooledBlobs: new Counter({
      name: `${PREFIX}spooled_blobs_total`,
      help: 'Blobs spooled to disk because they were large or the memory budget was used up.',
      registers: reg,
    }),
    spoolFailures: new Counter({
      name: `${PREFIX}spool_failures_total`,
      help: 'Writes to the spool directory that failed (missing or read-only directory, disk full). The blob is retried; /readyz fails while the spool cannot write.',
      registers: reg,
    }),
    spoolWritable: new Gauge({
      name: `${PREFIX}spool_writable`,
      help: '1 while the spool directory takes blobs (or none was needed yet), 0 after a failed write until one works again.',
      registers: reg,
    }),
    tenantStatus: new TenantStateGauge({
      name: `${PREFIX}tenant_status`,
      help: "1 for the tenant's current status; one series per tenant (the previous status's series is removed).",
      labelNames: ['tenant', 'status'] as const,
      registers: reg,
    }),
    connections: new Gauge({
      name: `${PREFIX}connections`,
      help: 'Tenant connections by lifecycle state (PendingConsent, Initializing, Monitoring, Error, Maintenance, Paused, Deauthorized).',
      labelNames: ['state'] as const,
      registers: reg,
    }),
    connectionTransitions: new Counter({
      name: `${PREFIX}connection_transitions_total`,
      help: 'Connection lifecycle transitions, by state entered.',
      labelNames: ['state'] as const,
      registers: reg,
    }),
    drivesDiscovered: new TenantDetailCounter(
      {
        name: `${PREFIX}drives_discovered_total`,
        help: 'Drives (personal OneDrives, site libraries) seen for the first time and announced on the drives topic.',
        labelNames: ['tenant', 'type'] as const,
        registers: reg,
      },
      detail,
    ),
    cursorLag: new TenantLagGauge({
      name: `${PREFIX}cursor_lag_seconds`,
      help: 'Now minus the committed cursor lower bound (content availability time); grows at scrape time while the cursor stands still.',
      labelNames: ['tenant'] as const,
      registers: reg,
    }),
    tenantLastSuccess: new Gauge({
      name: `${PREFIX}tenant_last_success_timestamp_seconds`,
      help: "Unix time the tenant last committed content (a blob's events with its cursor); the poller's start until the first.",
      labelNames: ['tenant'] as const,
      registers: reg,
    }),
    sweepRequests: new TenantDetailCounter(
      {
        name: `${PREFIX}sweep_api_requests_total`,
        help: 'Listing requests made by the reconciliation sweep (also counted in api_requests_total).',
        labelNames: ['tenant'] as const,
        registers: reg,
      },
      detail,
    ),
    sweeps: new TenantDetailCounter(
      {
        name: `${PREFIX}sweeps_total`,
        help: 'Reconciliation sweeps over the retained range, by outcome (completed, failed).',
        labelNames: ['tenant', 'outcome'] as const,
        registers: reg,
      },
      detail,
    ),
    checkpointCommits: new TenantDetailCounter(
      {
        name: `${PREFIX}checkpoint_commits_total`,
        help: 'Cursors committed (with a transaction or to the checkpoint store).',
        labelNames: ['tenant'] as const,
        registers: reg,
      },
      detail,
    ),
    sinkWaitSeconds: new Histogram({
      name: `${PREFIX}sink_wait_seconds`,
      help: 'Time a blob waited on Kafka (send plus commit). High values mean backpressure.',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registers: reg,
    }),
    blobListedToCommittedSeconds: new Histogram({
      name: `${PREFIX}blob_listed_to_committed_seconds`,
      help: 'Time from a blob appearing in a listing to its delivery committed (queueing, download, parse, Kafka).',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600],
      registers: reg,
    }),
    kafkaProduceDuration: new Histogram({
      name: `${PREFIX}kafka_produce_duration_seconds`,
      help: 'Time of one Kafka send (a batch of records) until the broker acknowledged it, by result (ok, error).',
      labelNames: ['result'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
      registers: reg,
    }),
    kafkaCommitDuration: new Histogram({
      name: `${PREFIX}kafka_commit_duration_seconds`,
      help: 'Time of one Kafka transaction commit (EndTxn after the last send), by result (ok, error).',
      labelNames: ['result'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
      registers: reg,
    }),
    kafkaTransactionAborts: new Counter({
      name: `${PREFIX}kafka_transaction_aborts_total`,
      help: 'Kafka transactions the connector aborted (the blobs in them are retried).',
      registers: reg,
    }),
    kafkaUp: new Gauge({
      name: `${PREFIX}kafka_up`,
      help: '1 while the last Kafka health probe (cluster metadata round trip) succeeded, 0 after it failed.',
      registers: reg,
    }),
    shardsOwned: new Gauge({
      name: `${PREFIX}shards_owned`,
      help: 'Shards this replica owns: assigned by the shard group, fenced, cursors read, tenants started.',
      registers: reg,
    }),
    // Bounded by kafka.shards.count (default 32, at most 1000): a series per shard owned here, removed
    // when the shard moves, so the owner of shard n is `shard_owner{shard="n"}`'s instance.
    shardOwner: new Gauge({
      name: `${PREFIX}shard_owner`,
      help: '1 for each shard this replica owns (label shard); the series moves with the shard to its new owner.',
      labelNames: ['shard'] as const,
      registers: reg,
    }),
    shardRebalances: new Counter({
      name: `${PREFIX}shard_rebalances_total`,
      help: 'Changes of the shards this replica owns, by kind (assigned, revoked, lost: fenced by a newer owner, restarted: taken over again after a commit without an answer).',
      labelNames: ['kind'] as const,
      registers: reg,
    }),
    lateBlobs: new Counter({
      name: `${PREFIX}late_blobs_total`,
      help: 'Blobs the reconciliation sweep found that the regular listing had missed, by how late they were listed.',
      labelNames: ['lateness'] as const,
      registers: reg,
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Drops a tenant's own series (lag, status, last success) when it is no longer polled here. */
export function forgetTenant(metrics: Metrics, tenant: string): void {
  metrics.cursorLag.remove({ tenant });
  metrics.tenantLastSuccess.remove({ tenant });
  metrics.tenantStatus.forgetTenant(tenant);
}

export function enableProcessMetrics(metrics: Metrics): void {
  collectDefaultMetrics({ register: metrics.registry, prefix: PREFIX });
}
