import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../contracts/clock.ts';
import { systemClock } from '../contracts/clock.ts';
import { ConnectorError } from '../contracts/errors.ts';
import { silentLogger } from '../telemetry/logger.ts';
import type { SimContext } from './context.ts';
import type { BlobEntry, ServedRecord } from './data/catalog.ts';
import { FixtureCatalog } from './data/fixture-catalog.ts';
import { computeGroundTruth, type GroundTruth, type GroundTruthQuery } from './data/ground-truth.ts';
import { TokenSigner } from './entra/access-token.ts';
import { AssertionVerifier } from './entra/client-assertion.ts';
import { blobBody } from './api/blob.ts';
import { FaultController, type FaultControls, type FaultSpec } from './faults.ts';
import { LatencyModel } from './latency.ts';
import { DEFAULTS, type SimulatorOptions } from './options.ts';
import { createRequestHandler } from './server.ts';
import { RequestStats } from './stats.ts';
import { buildTenants, type Tenant } from './tenants.ts';
import { ScaledClock } from './scaled-clock.ts';
import { Throttle } from './throttle.ts';
import { generateClientCertificate, generateTlsMaterial, thumbprints, type ClientCertificate } from './tls.ts';

export type { SimulatorOptions, TenantOptions, Scenario, ThrottleStyle, LateTail } from './options.ts';
export type { LatencyOptions } from './latency.ts';
export { LATENCY_DEFAULTS } from './latency.ts';
export { SCENARIOS, THROTTLE_STYLES } from './options.ts';
export type { FaultSpec, FaultControls, FaultUpdate } from './faults.ts';
export type { RequestStats, RequestRecord, RequestFilter, EndpointName, TenantStats } from './stats.ts';
export type { GroundTruth, GroundTruthQuery, ExpectedRecord, ExpectedBlob } from './data/ground-truth.ts';
export { ManualClock } from '../util/manual-clock.ts';

/** What a test or the CLI may know of a simulated tenant (`domain`, `<name>.onmicrosoft.com`, also names it at the token endpoint). */
export type SimulatedTenant = Pick<Tenant, 'id' | 'name' | 'domain' | 'plan' | 'scenario' | 'source'>;

export interface RunningSimulator {
  /** `https://<host>:<port>`: the login authority host and the API host at once. */
  readonly baseUrl: string;
  readonly port: number;
  /** PEM of the CA that signed the server certificate; clients must trust it. */
  readonly caPem: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The certificate (and key) the simulator accepts for client assertions. */
  readonly clientCertificate: Readonly<Partial<ClientCertificate> & { certPem: string; thumbprintSha1: string; thumbprintSha256: string }>;
  /** Token scope for the simulated API: `<baseUrl>/.default`. */
  readonly scope: string;
  readonly tenants: readonly SimulatedTenant[];
  readonly clock: Clock;
  readonly faults: FaultControls;
  readonly stats: RequestStats;
  /** `<baseUrl>/<tenantId>`: the msal-node authority (list the host in knownAuthorities). */
  authority(tenantId: string): string;
  tokenUrl(tenantId: string): string;
  /** `<baseUrl>/api/v1.0/<tenantId>/activity/feed`. */
  feedUrl(tenantId: string): string;
  /** Every unique record of every blob listed so far (see GroundTruthQuery). */
  expectedRecords(tenantId: string, query?: GroundTruthQuery): Promise<GroundTruth>;
  /**
   * A recorded (fixture) tenant's blobs, listed yet or not, each with its records as served
   * (duplicates included): what a complete replay must collect. Undefined for synthetic tenants.
   */
  recordedBlobs(tenantId: string): RecordedBlob[] | undefined;
  /** Audit logging on/off, as a tenant admin would switch it (o365-api.md §2.3). */
  setAuditEnabled(tenantId: string, enabled: boolean): void;
  /** Disables a subscription as an admin would (AF20023); /start re-enables it. */
  disableSubscription(tenantId: string, contentType?: string): void;
  /** The JSON object the CLI prints as its start line. */
  describe(): Record<string, unknown>;
  /**
   * With `blobBodiesInMemory`: generates the body of every blob created so far (all tenants) so no
   * download pays for generation; returns the bytes held. 0 when the option is off.
   */
  pregenerateBlobs(): number;
  /** Stops listening and drops open connections. Safe to call twice. */
  close(): Promise<void>;
}

export interface RecordedBlob extends BlobEntry {
  /** The blob file, relative to the tenant folder. */
  file: string;
  records(): Iterable<ServedRecord>;
}

function requireTenant(tenants: Map<string, Tenant>, tenantId: string): Tenant {
  const tenant = tenants.get(tenantId.toLowerCase());
  if (!tenant) throw new ConnectorError('SIMULATOR_UNKNOWN_TENANT', `The simulator has no tenant ${tenantId}.`, { stage: 'simulator', retriable: false });
  return tenant;
}

/** Starts the HTTPS simulator of the Entra token endpoint and the Management Activity API. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const speed = options.clock === undefined ? (options.speedFactor ?? 1) : 1;
  const clock = options.clock ?? (speed === 1 ? systemClock : new ScaledClock(speed));
  const host = options.host ?? DEFAULTS.host;
  const tls = options.tls ?? generateTlsMaterial(['localhost', ...(host === '127.0.0.1' || host === 'localhost' ? [] : [host])], ['127.0.0.1']);
  const given = options.clientCertificate;
  const clientCertificate = given === undefined ? generateClientCertificate() : { ...given, ...thumbprints(given.certPem) };
  const clientCertPem = clientCertificate.certPem;
  const tenantList = buildTenants(options, clock.now());
  const tenants = new Map(tenantList.map((t) => [t.id, t]));
  const quota = options.quotaPerMinute ?? DEFAULTS.quotaPerMinute;

  const ctx: SimContext = {
    clock,
    logger: options.logger ?? silentLogger,
    seed: String(options.seed ?? DEFAULTS.seed),
    baseUrl: '',
    clientId: options.clientId ?? DEFAULTS.clientId,
    clientSecret: options.clientSecret ?? DEFAULTS.clientSecret,
    appName: 'OneDrive Activity Connector (simulated)',
    tenants,
    signer: new TokenSigner(),
    assertions: new AssertionVerifier(clientCertPem),
    faults: new FaultController((tenantId: string, spec: FaultSpec) => {
      const tenant = tenants.get(tenantId.toLowerCase());
      if (tenant && spec.subscriptionDisabled === true) for (const sub of tenant.subscriptions.values()) sub.status = 'disabled';
    }),
    stats: new RequestStats(),
    throttle: new Throttle(options.throttleWindow ?? DEFAULTS.throttleWindow),
    latency: options.latency === undefined || options.latency === false ? undefined : new LatencyModel(options.latency === true ? {} : options.latency, String(options.seed ?? DEFAULTS.seed)),
    blobBodies: options.blobBodiesInMemory === true ? new Map<string, Buffer>() : undefined,
    settings: {
      pageSize: options.pageSize ?? DEFAULTS.pageSize,
      lowercaseNextPageProbability: options.lowercaseNextPageProbability ?? DEFAULTS.lowercaseNextPageProbability,
      globalQuotaPerMinute: options.globalQuotaPerMinute ?? quota,
      throttleStyle: options.throttleStyle ?? DEFAULTS.throttleStyle,
      startCooldownMs: (options.startCooldownMinutes ?? DEFAULTS.startCooldownMinutes) * 60_000,
      tokenLifetimeSeconds: (options.tokenLifetimeSeconds ?? DEFAULTS.tokenLifetimeSeconds) * speed,
      retentionSlackMs: (options.retentionSlackMinutes ?? 0) * 60_000,
    },
  };

  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, createRequestHandler(ctx));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  ctx.baseUrl = `https://${urlHost}:${port}`;
  let closed: Promise<void> | undefined;

  const sim: RunningSimulator = {
    baseUrl: ctx.baseUrl,
    port,
    caPem: tls.caPem,
    clientId: ctx.clientId,
    clientSecret: ctx.clientSecret,
    clientCertificate,
    scope: `${ctx.baseUrl}/.default`,
    tenants: tenantList.map((t) => ({ id: t.id, name: t.name, domain: t.domain, plan: t.plan, scenario: t.scenario, source: t.source })),
    clock,
    faults: ctx.faults,
    stats: ctx.stats,
    authority: (tenantId) => `${ctx.baseUrl}/${tenantId}`,
    tokenUrl: (tenantId) => `${ctx.baseUrl}/${tenantId}/oauth2/v2.0/token`,
    feedUrl: (tenantId) => `${ctx.baseUrl}/api/v1.0/${tenantId}/activity/feed`,
    expectedRecords: (tenantId, query) => Promise.resolve(computeGroundTruth(requireTenant(tenants, tenantId), clock.now(), query)),
    recordedBlobs: (tenantId) => {
      const catalog = requireTenant(tenants, tenantId).catalog;
      if (!(catalog instanceof FixtureCatalog)) return undefined;
      return catalog.entries().map((entry) => ({ ...entry, records: () => catalog.records(entry) }));
    },
    setAuditEnabled: (tenantId, enabled) => {
      requireTenant(tenants, tenantId).auditEnabled = enabled;
    },
    disableSubscription: (tenantId, contentType = 'Audit.SharePoint') => {
      const sub = requireTenant(tenants, tenantId).subscriptions.get(contentType);
      if (sub) sub.status = 'disabled';
    },
    describe: () => ({
      event: 'simulator-started',
      baseUrl: ctx.baseUrl,
      loginBaseUrl: ctx.baseUrl,
      apiBaseUrl: ctx.baseUrl,
      scope: sim.scope,
      clientId: ctx.clientId,
      clientSecret: ctx.clientSecret,
      clientCertificateThumbprintSha1: sim.clientCertificate.thumbprintSha1,
      clientCertificateThumbprintSha256: sim.clientCertificate.thumbprintSha256,
      throttleStyle: ctx.settings.throttleStyle,
      pageSize: ctx.settings.pageSize,
      tenants: sim.tenants.map((t) => ({ id: t.id, name: t.name, plan: t.plan, scenario: t.scenario, source: t.source })),
    }),
    pregenerateBlobs: () => {
      const bodies = ctx.blobBodies;
      if (bodies === undefined) return 0;
      let bytes = 0;
      for (const tenant of tenants.values()) {
        for (const entry of tenant.catalog.blobsBetween(0, clock.now() + 1)) bytes += blobBody(bodies, tenant, entry).length;
      }
      return bytes;
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
  return sim;
}
