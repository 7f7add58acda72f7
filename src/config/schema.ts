import { z } from 'zod';
import { CLOUD_NAMES } from './clouds.ts';

/**
 * The one configuration schema. Strict everywhere (an unknown key is an error, usually a typo),
 * defaults live here, units are in the names. Secrets are never values in the file: the file names
 * the environment variable or mounted file that holds them.
 */

const guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a GUID');

const httpsUrl = z
  .string()
  .url()
  .refine((value) => value.startsWith('https://'), 'must be an https:// URL')
  .transform((value) => value.replace(/\/+$/, ''));

/** Where a secret comes from: exactly one of an environment variable or a file (e.g. a mounted Kubernetes secret). */
const secretSource = z
  .strictObject({ env: z.string().min(1).optional(), file: z.string().min(1).optional() })
  .refine((source) => (source.env === undefined) !== (source.file === undefined), 'give exactly one of env or file');

export type SecretSource = z.infer<typeof secretSource>;

const tenantSchema = z.strictObject({
  id: guid,
  displayName: z.string().min(1).optional(),
  cloud: z.enum(CLOUD_NAMES).default('commercial'),
  /** The licence plan, informative (E5 tenants get about twice the baseline quota). */
  plan: z.string().min(1).default('unknown'),
  /** Overrides connector.requestsPerMinute for this tenant. */
  requestsPerMinute: z.number().int().positive().optional(),
});

export type TenantConfig = z.infer<typeof tenantSchema>;

const authSchema = z
  .strictObject({
    clientId: guid,
    clientSecret: secretSource.optional(),
    certificate: z
      .strictObject({
        /** PEM private key (a secret: env or file). */
        privateKey: secretSource,
        /** PEM certificate file; its SHA-1 thumbprint identifies the key to Entra ID. */
        certificateFile: z.string().min(1),
      })
      .optional(),
  })
  .refine(
    (auth) => (auth.clientSecret === undefined) !== (auth.certificate === undefined),
    'give exactly one of clientSecret or certificate',
  );

const endpointOverridesSchema = z.strictObject({
  /** Replaces every tenant's token authority host (how tests and the demo point at the simulator). */
  loginBaseUrl: httpsUrl.optional(),
  /** Replaces every tenant's API host. The bearer token is only ever sent to this host. */
  apiBaseUrl: httpsUrl.optional(),
  /** Extra CA certificate (PEM file) to trust for both, e.g. the simulator's. */
  caFile: z.string().min(1).optional(),
});

const connectorSchema = z.strictObject({
  /** Our vendor tenant GUID, sent as PublisherIdentifier on every call so tenants get their own quota. */
  publisherIdentifier: guid,
  /** exactly-once: a blob's events and its cursor commit in one Kafka transaction. */
  deliveryMode: z.enum(['exactly-once', 'at-least-once']).default('exactly-once'),
  contentTypes: z.array(z.literal('Audit.SharePoint')).min(1).default(['Audit.SharePoint']),
  pollIntervalSeconds: z.number().positive().default(60),
  /**
   * A tenant whose last 3 listings found nothing new is polled this often instead (back to
   * pollIntervalSeconds once a listing finds a blob). Blobs become listable 60–90 min after the
   * activity anyway; this keeps thousands of quiet tenants from costing a listing each per minute.
   * Set it to pollIntervalSeconds to turn it off.
   */
  idlePollIntervalSeconds: z.number().positive().default(300),
  /** First run (no cursor): how far back to start. The API keeps 7 days. */
  firstRunLookbackHours: z.number().positive().max(168).default(24),
  /**
   * How far each listing reaches back before the listing progress. Blobs can become listable well
   * after their contentCreated (the simulator models 30 min to 3 h); the done set keeps the overlap
   * from publishing anything twice. Longer overlap = more listing requests and a larger cursor.
   */
  windowOverlapSeconds: z.number().int().min(0).max(86_400).default(14_400),
  /** Listing stops this far before now, so a window is not listed while Microsoft still fills it. */
  windowEndLagSeconds: z.number().int().min(0).max(3600).default(60),
  maxWindowHours: z.number().positive().max(24).default(24),
  requestsPerMinute: z.number().int().positive().default(2000),
  requestTimeoutSeconds: z.number().positive().default(60),
  /**
   * Blobs downloaded or being published at once, per tenant. To use a tenant's quota, in flight must
   * cover quota × request time (Little's law): 2,000/min ≈ 33 requests/s × ~0.3 s ≈ 10. With 4 a
   * 7-day catch-up used 45 % of the quota against the simulator's latency model; 12 used 94 %.
   */
  blobConcurrencyPerTenant: z.number().int().positive().default(12),
  /** Blobs tracked but not yet committed, per tenant: the tracker blocks listing past this (backpressure). */
  maxInflightBlobsPerTenant: z.number().int().positive().default(64),
  /** Blobs in flight across all tenants. */
  maxInflightBlobs: z.number().int().positive().default(32),
  /** Blob bytes held in memory across all tenants; past it, downloads spool to disk. */
  maxInflightBytes: z.number().int().positive().default(256 * 1024 * 1024),
  /** A single blob larger than this always spools to disk. */
  maxInMemoryBlobBytes: z.number().int().positive().default(16 * 1024 * 1024),
  spoolDirectory: z.string().min(1).optional(),
  /** Events per Kafka send within a blob. */
  publishBatchEvents: z.number().int().positive().default(1000),
  /** Attempts on a blob whose content stays malformed before its parsed part is kept and the rest dead-lettered. */
  malformedBlobAttempts: z.number().int().positive().default(3),
  maxBackoffSeconds: z.number().positive().default(300),
  /** Event ids remembered per tenant to drop records Microsoft repeats across blobs. */
  dedupeEventIdsPerTenant: z.number().int().min(0).default(100_000),
  /** Exactly-once mode: how far back a restart rebuilds those ids (the published-ids topic keeps this long). */
  dedupeHorizonHours: z.number().positive().max(168).default(48),
  shutdownTimeoutSeconds: z.number().positive().default(30),
  /**
   * A cursor that moved only because listing reached further (no blob finished) is saved at most this
   * often: an idle tenant otherwise writes a cursor every poll. Restarts re-list the window overlap
   * anyway, so this costs nothing but a slightly longer re-listing.
   */
  idleCursorSaveIntervalSeconds: z.number().int().positive().default(300),
  /**
   * Reconciliation sweep (issue 12, docs/delivery-guarantees.md): re-lists the 7 days the API keeps,
   * below the overlap, and collects blobs Microsoft listed too late for it. Uses the tenant's quota
   * only when live polling leaves some over.
   */
  sweep: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Time between a tenant's sweeps; tenants are spread over it. */
      intervalMinutes: z.number().positive().max(7 * 24 * 60).default(360),
      /** After downtime, overdue sweeps start spread over this. */
      startupSpreadSeconds: z.number().min(0).default(600),
      /** Late blobs one tenant's sweep collects at once. */
      maxConcurrentBlobs: z.number().int().positive().default(2),
    })
    .prefault({}),
});

/** TLS to the brokers with our own trust and identity; any of it implies TLS. */
const kafkaTlsSchema = z
  .strictObject({
    /** PEM bundle of the CA(s) that signed the brokers' certificates; without it the system trust store. */
    caFile: z.string().min(1).optional(),
    /** PEM client certificate (chain) for brokers with ssl.client.auth=required. */
    certificateFile: z.string().min(1).optional(),
    /** PEM private key of the client certificate (a secret: env or file). */
    privateKey: secretSource.optional(),
    /** Passphrase of an encrypted private key. */
    privateKeyPassphrase: secretSource.optional(),
    /** Name checked against the broker certificate when it differs from the bootstrap host. */
    serverName: z.string().min(1).optional(),
  })
  .refine((tls) => (tls.certificateFile === undefined) === (tls.privateKey === undefined), 'give both certificateFile and privateKey, or neither');

const kafkaSaslSchema = z.strictObject({
  mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
  username: z.string().min(1),
  password: secretSource,
});

export type KafkaTlsConfig = z.infer<typeof kafkaTlsSchema>;
export type KafkaSaslConfig = z.infer<typeof kafkaSaslSchema>;

const kafkaSchema = z.strictObject({
  brokers: z.array(z.string().min(1)).min(1),
  clientId: z.string().min(1).default('onedrive-connector'),
  /** TLS with the system trust store (kafka.tls configures a CA or client certificate and implies it). */
  ssl: z.boolean().default(false),
  tls: kafkaTlsSchema.optional(),
  /** SASL authentication (SASL_SSL with ssl or tls, SASL_PLAINTEXT without; PLAIN only over TLS). */
  sasl: kafkaSaslSchema.optional(),
  /** How often readiness and onedrive_connector_kafka_up probe the cluster (a metadata round trip). */
  healthCheckIntervalSeconds: z.number().positive().default(10),
  /** A probe slower than this counts as Kafka unreachable. */
  healthCheckTimeoutSeconds: z.number().positive().default(5),
  topics: z
    .strictObject({
      events: z.string().min(1).default('onedrive.file-events.v1'),
      deadLetter: z.string().min(1).default('onedrive.dead-letter.v1'),
      cursors: z.string().min(1).default('onedrive.cursors.v1'),
      /** Exactly-once mode: event ids per committed blob, read back at start to drop Microsoft's repeats. */
      publishedIds: z.string().min(1).default('onedrive.published-ids.v1'),
      /** Connection lifecycle (docs/lifecycle.md): the tenant registry (compacted, key = tenant id). */
      registry: z.string().min(1).default('onedrive.tenants.v1'),
      /** Connection status transitions, for Forensic Search (key = tenant id). */
      connectionStatus: z.string().min(1).default('onedrive.connection-status.v1'),
      /** Drives seen so far (compacted, key = drive key). */
      drives: z.string().min(1).default('onedrive.drives.v1'),
      /** Reconciliation sweep: digests of delivered blobs and sweep state (deleted by time after 8 days). */
      sweepDigests: z.string().min(1).default('onedrive.sweep-digests.v1'),
    })
    .prefault({}),
  compression: z.enum(['none', 'gzip']).default('gzip'),
  /**
   * Scale-out (docs/scaling.md): tenants are sharded over the partitions of the registry topic; a
   * consumer group over that topic assigns shards to replicas. Each owned shard has its own
   * transactional id, `<transactionalIdPrefix>-shard-<n>`, fenced before its cursors are read.
   */
  shards: z
    .strictObject({
      /** Partitions of the registry topic (and of the cursors and published-ids topics) = shards. Fixed: changing it is re-sharding. */
      count: z.number().int().min(1).max(1000).default(32),
      /** The consumer group that assigns shards; every replica of one deployment uses the same. Default `<transactionalIdPrefix>-shards`. */
      groupId: z.string().min(1).optional(),
      /** A replica silent this long (SIGKILL, lost network) loses its shards to the others. */
      sessionTimeoutSeconds: z.number().int().min(6).max(300).default(30),
      /** How long a rebalance waits for every replica to rejoin; at least transactionTimeoutSeconds (its default), so an open group can end. */
      rebalanceTimeoutSeconds: z.number().int().min(1).max(900).optional(),
      heartbeatIntervalSeconds: z.number().positive().max(60).default(3),
    })
    .prefault({})
    .refine((s) => s.heartbeatIntervalSeconds * 3 <= s.sessionTimeoutSeconds, { message: 'heartbeatIntervalSeconds must be at most a third of sessionTimeoutSeconds', path: ['heartbeatIntervalSeconds'] }),
  transactionalIdPrefix: z.string().min(1).default('onedrive-connector'),
  /**
   * Group commit: units that finished within this interval are written together, as one transaction
   * (exactly-once) or one series of produce requests (at-least-once), across the shard's tenants.
   */
  groupCommitIntervalMs: z.number().int().min(0).max(10_000).default(100),
  /** A group is written at once when it holds this many records (events, dead letters, side records). */
  groupCommitMaxRecords: z.number().int().positive().default(20_000),
  /** ...or this many bytes. Also the slice size: a larger blob is published in slices of about this size. */
  groupCommitMaxBytes: z.number().int().positive().default(8 * 1024 * 1024),
  /**
   * A transaction lasts one group (a short write and commit; huge blobs go in slices), so this only
   * matters when a producer dies mid-group and no replacement fences it: read_committed consumers wait
   * at most this long behind the open transaction. At most the broker's transaction.max.timeout.ms.
   */
  transactionTimeoutSeconds: z.number().int().positive().max(900).default(60),
  /**
   * The client the sink produces with (BENCHMARKS.md "Kafka client" has the comparison). The
   * checkpoint store, registry and admin calls use kafkajs either way.
   */
  client: z.enum(['kafkajs', 'platformatic']).default('kafkajs'),
  /** Create missing topics on start (cursors compacted). */
  createTopics: z.boolean().default(true),
  topicPartitions: z.number().int().positive().default(6),
  replicationFactor: z.number().int().positive().default(1),
});

/** The admin API (docs/lifecycle.md): its own port, never the metrics one, and always behind a bearer token. */
const adminSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(9465),
    /** The bearer token callers must present. */
    token: secretSource.optional(),
    /** Where the tenant admin's browser is sent back after consent: this API's /consent/callback, as registered on the app. */
    redirectUri: z.string().url().optional(),
    /** Signs the consent `state` (HMAC-SHA256). */
    stateSecret: secretSource.optional(),
    consentStateTtlSeconds: z.number().int().positive().default(3600),
  })
  .refine((admin) => !admin.enabled || admin.token !== undefined, { message: 'an enabled admin API needs a token', path: ['token'] })
  .refine((admin) => !admin.enabled || admin.stateSecret !== undefined, { message: 'an enabled admin API needs a stateSecret', path: ['stateSecret'] });

const plainNeedsTls = (kafka: z.infer<typeof kafkaSchema>): boolean => kafka.sasl?.mechanism !== 'plain' || kafka.ssl || kafka.tls !== undefined;

export const configSchema = z.strictObject({
  connector: connectorSchema,
  auth: authSchema,
  endpoints: endpointOverridesSchema.prefault({}),
  /** Seeds the tenant registry (registry wins for tenants it holds, docs/lifecycle.md); may be empty when the admin API adds tenants. */
  tenants: z
    .array(tenantSchema)
    .default([])
    .refine((tenants) => new Set(tenants.map((t) => t.id.toLowerCase())).size === tenants.length, 'tenant ids must be unique'),
  kafka: kafkaSchema
    .refine(plainNeedsTls, { message: 'SASL PLAIN sends the password as it is: turn on ssl or configure tls', path: ['sasl', 'mechanism'] })
    .refine((kafka) => (kafka.shards.rebalanceTimeoutSeconds ?? Infinity) >= kafka.transactionTimeoutSeconds, {
      message: 'shards.rebalanceTimeoutSeconds must be at least transactionTimeoutSeconds: a replica giving up a shard may need that long to end its open group',
      path: ['shards', 'rebalanceTimeoutSeconds'],
    }),
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: z.string().default('0.0.0.0'),
      port: z.number().int().min(0).max(65535).default(9464),
      /** Keep the tenant label on every counter (about 40 more series per tenant; see docs/metrics.md). */
      perTenantDetail: z.boolean().default(false),
    })
    .prefault({}),
  admin: adminSchema.prefault({}),
  lifecycle: z
    .strictObject({
      /** A deauthorized tenant can be resumed from its cursor this long; then its record and cursor are purged. */
      deauthorizedRetentionDays: z.number().positive().default(90),
      /** How often the supervisor looks for due maintenance windows and purges. */
      sweepIntervalSeconds: z.number().positive().default(60),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') }).prefault({}),
}).refine((config) => config.tenants.length > 0 || config.admin.enabled, {
  message: 'list at least one tenant, or enable the admin API to add tenants while running',
  path: ['tenants'],
});

export type ConnectorConfig = z.infer<typeof configSchema>;
export type AdminConfig = ConnectorConfig['admin'];
export type ConnectorConfigInput = z.input<typeof configSchema>;
