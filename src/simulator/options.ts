import type { Clock } from '../contracts/clock.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { LatencyOptions } from './latency.ts';
import type { ThrottleWindow } from './throttle.ts';

/**
 * Per-tenant behaviour presets:
 * - `healthy`: everything works.
 * - `audit-disabled`: tokens work; every activity-API call answers the §2.3 "Tenant … does not exist" 400.
 * - `no-consent`: the app is not in the tenant, so the token endpoint refuses (AADSTS700016).
 * - `permission-missing`: tokens lack ActivityFeed.Read, so the API answers AF10001 / 401 (§2.2).
 * - `throttled`: a low request quota (`throttledQuotaPerMinute`).
 * - `faulty`: a seeded mix of 5xx answers, connection resets, slow answers and malformed records.
 * - `consent-denied`: like `no-consent`, and the admin-consent page answers as when the admin refuses.
 * A `no-consent` tenant becomes `healthy` once its admin grants consent on /{tenant}/v2.0/adminconsent.
 */
export const SCENARIOS = ['healthy', 'audit-disabled', 'no-consent', 'permission-missing', 'throttled', 'faulty', 'consent-denied'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** HTTP shape of AF429: 429 + Retry-After, 429 without it, or 403 as TRB shows (o365-api.md §2.2, §2.4). */
export const THROTTLE_STYLES = ['429-retry-after', '429', '403'] as const;
export type ThrottleStyle = (typeof THROTTLE_STYLES)[number];

export interface TenantOptions {
  /** Tenant GUID; derived from the seed and position when omitted. */
  id?: string;
  /** Short name used in hosts (`<name>-my.sharepoint.com`); derived when omitted. */
  name?: string;
  /** Licence plan shown in the start line (e.g. E5, E3, Business); informative. */
  plan?: string;
  scenario?: Scenario;
  /** Per-tenant seed; defaults to the simulator seed. */
  seed?: string | number;
  eventsPerHour?: number;
  recordsPerBlob?: number;
  /** Hours of history before the simulator starts (default 170: a full 7-day backlog plus some expired blobs). */
  historyHours?: number;
  quotaPerMinute?: number;
  /** Adds one blob of about `sizeBytes`, generated while streaming (`minutesAgo` before start, default 30). */
  largeBlob?: { sizeBytes: number; minutesAgo?: number };
  /** Content types already enabled at start (default none: the client must call /subscriptions/start). */
  subscribed?: readonly string[];
  lateFraction?: number;
  /** Overrides SimulatorOptions.lateTail for this tenant. */
  lateTail?: LateTail;
  duplicateWithinFraction?: number;
  duplicateAcrossFraction?: number;
  bomFraction?: number;
}

/**
 * The long tail of late listings (issue 12): a seeded `fraction` of blobs becomes listable one of
 * `delaysHours` after its contentCreated (picked per blob, uniformly), far past the connector's
 * overlap, so only the reconciliation sweep can collect them. Off (fraction 0) unless asked for.
 */
export interface LateTail {
  fraction: number;
  /** Default 6, 24 and 72 hours. */
  delaysHours?: readonly number[];
}

export const DEFAULT_LATE_TAIL_DELAYS_HOURS = [6, 24, 72] as const;

export interface SimulatorOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Simulator time; inject a ManualClock in tests to move it. Default: the system clock. */
  clock?: Clock;
  /**
   * Without `clock`: simulator time runs this many times faster than the wall clock (default 1), so
   * late blobs of a recording appear within seconds (`replay --speed`). Token lifetimes are scaled
   * by the same factor, so a token lasts as long in wall-clock time as the client believes.
   */
  speedFactor?: number;
  seed?: string | number;
  /** A count of synthetic healthy tenants or explicit tenant definitions. Default 1. */
  tenants?: number | readonly TenantOptions[];
  /** Folder of recorded tenants (fixtures/README.md), added after the synthetic ones. */
  fixturesDir?: string;
  /** Shift fixture times so the newest recorded blob is created at start (default true). */
  fixturesShiftToNow?: boolean;
  clientId?: string;
  clientSecret?: string;
  /** The client certificate whose key may sign client assertions (key optional: only echoed back); generated when omitted. */
  clientCertificate?: { certPem: string; keyPem?: string };
  /** Server TLS material; a CA and a server certificate for 127.0.0.1/localhost are generated when omitted. */
  tls?: { caPem: string; certPem: string; keyPem: string };
  /** Listing page size (undocumented upstream, o365-api.md §6.3). Default 100. */
  pageSize?: number;
  /** Probability (seeded per page) that a NextPageUri uses lower-cased parameter names. Default 0.25. */
  lowercaseNextPageProbability?: number;
  /** Requests per minute per tenant pool (o365-api.md §2.4). Default 2000. */
  quotaPerMinute?: number;
  /** Quota of the shared pool for requests without PublisherIdentifier. Default = quotaPerMinute. */
  globalQuotaPerMinute?: number;
  /** Quota of `throttled` tenants. Default 20. */
  throttledQuotaPerMinute?: number;
  throttleStyle?: ThrottleStyle;
  throttleWindow?: ThrottleWindow;
  /** Minimum gap between two /subscriptions/start calls (o365-api.md §1.3). Default 15. */
  startCooldownMinutes?: number;
  /** Access-token lifetime. Default 3599 (o365-api.md §3). */
  tokenLifetimeSeconds?: number;
  /** Defaults for synthetic tenants. */
  eventsPerHour?: number;
  recordsPerBlob?: number;
  /**
   * A new subscription lists nothing for this long after its first start (Microsoft: "up to 12 hours",
   * o365-api.md §1.3); pre-subscribed tenants (`subscribed`) are past it. Default 0.
   */
  firstContentDelayMinutes?: number;
  /** Default share of blobs that start with a UTF-8 BOM, for tenants that do not set their own. */
  bomFraction?: number;
  /** Default late-listing tail of synthetic tenants; default none. */
  lateTail?: LateTail;
  /** Extra minutes the 7-day start-time rule tolerates (observed ~60, o365-api.md §1.7). Default 0. */
  retentionSlackMinutes?: number;
  /**
   * Answer with Microsoft-like delays (latency.ts): `true` for the defaults, or the figures to use.
   * Off by default, so tests stay fast; benchmarks turn it on.
   */
  latency?: boolean | LatencyOptions;
  /**
   * Keep each blob body in memory once generated (and `pregenerateBlobs()` makes them all up front),
   * so a benchmark measures the client, not the generator. Blobs a fault damages are still generated.
   */
  blobBodiesInMemory?: boolean;
  logger?: Logger;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  seed: '1',
  clientId: '6f1c1d3e-8d1b-4c36-9d43-5a0f0c1e2b7a',
  clientSecret: 'sim-secret~do-not-use-in-production',
  pageSize: 100,
  lowercaseNextPageProbability: 0.25,
  quotaPerMinute: 2000,
  throttledQuotaPerMinute: 20,
  throttleStyle: '403' as ThrottleStyle,
  throttleWindow: 'sliding' as ThrottleWindow,
  startCooldownMinutes: 15,
  tokenLifetimeSeconds: 3599,
  eventsPerHour: 60,
  recordsPerBlob: 20,
  historyHours: 170,
  lateFraction: 0.05,
  duplicateWithinFraction: 0.15,
  duplicateAcrossFraction: 0.1,
  // beats#44327 saw BOMs on Audit.Exchange and DLP.All, not SharePoint: rare here, but kept so the path is exercised.
  bomFraction: 0.02,
  firstContentDelayMinutes: 0,
  faultyCorruptFraction: 0.05,
} as const;

export const PLANS = ['E5', 'E3', 'Business'] as const;
export const TENANT_NAMES = ['contoso', 'fabrikam', 'northwind', 'adatum', 'tailspin', 'woodgrove', 'litware', 'proseware'] as const;
