import type { BlobCatalog, BlobEntry } from './data/catalog.ts';
import { loadFixtureTenants } from './data/fixture-catalog.ts';
import { SyntheticCatalog } from './data/synthetic-catalog.ts';
import { buildTenantModel } from './data/tenant-model.ts';
import { DEFAULT_LATE_TAIL_DELAYS_HOURS, DEFAULTS, PLANS, SCENARIOS, TENANT_NAMES, type Scenario, type SimulatorOptions, type TenantOptions } from './options.ts';
import { rngFor, type Rng } from './prng.ts';

export interface Webhook {
  status: 'enabled' | 'disabled' | 'expired';
  address: string;
  authId: string | null;
  expiration: string | null;
}

export interface Subscription {
  status: 'enabled' | 'disabled';
  webhook: Webhook | null;
}

/** One tenant's live state: its data, its subscriptions and the rules that depend on history. */
export interface Tenant {
  id: string;
  name: string;
  domain: string;
  plan: string;
  scenario: Scenario;
  source: 'synthetic' | 'fixture';
  quotaPerMinute: number;
  catalog: BlobCatalog;
  subscriptions: Map<string, Subscription>;
  /** contentType → availability intervals [from, to) during which it was stopped: never listed (§1.5). */
  stoppedGaps: Map<string, [number, number][]>;
  stoppedSince: Map<string, number>;
  /** contentType → time of the last /start that passed the 15-minute rule (§1.3). */
  lastStartAt: Map<string, number>;
  auditEnabled: boolean;
  /** contentType → first time a /start enabled it: nothing is listed before this plus the first-content delay. */
  firstStartedAt: Map<string, number>;
  firstContentDelayMs: number;
  /** Sequential generator for the `faulty` scenario's random faults. */
  faultRng: Rng;
}

/** Whether a blob shows up in a listing at `nowMs` (availability, and not during a stop, §1.5). */
export function isListed(tenant: Tenant, contentType: string, blob: BlobEntry, nowMs: number): boolean {
  if (blob.availableAt > nowMs) return false;
  const firstStart = tenant.firstStartedAt.get(contentType);
  if (firstStart !== undefined && nowMs < firstStart + tenant.firstContentDelayMs) return false;
  for (const [from, to] of tenant.stoppedGaps.get(contentType) ?? []) {
    if (blob.availableAt >= from && blob.availableAt < to) return false;
  }
  const stoppedAt = tenant.stoppedSince.get(contentType);
  return stoppedAt === undefined || blob.availableAt < stoppedAt;
}

function tenantGuid(seed: string, index: number): string {
  return rngFor(seed, 'tenant-id', index).guid();
}

function isScenario(value: string | undefined): value is Scenario {
  return value !== undefined && (SCENARIOS as readonly string[]).includes(value);
}

/** Builds the tenants from the options: synthetic ones first, then recorded fixtures. */
export function buildTenants(options: SimulatorOptions, startMs: number): Tenant[] {
  const seed = String(options.seed ?? DEFAULTS.seed);
  const defs: readonly TenantOptions[] = typeof options.tenants === 'number' || options.tenants === undefined ? Array.from({ length: options.tenants ?? 1 }, (): TenantOptions => ({})) : options.tenants;
  const quota = options.quotaPerMinute ?? DEFAULTS.quotaPerMinute;
  const tenants: Tenant[] = defs.map((def, index) => {
    const id = (def.id ?? tenantGuid(seed, index)).toLowerCase();
    const baseName = TENANT_NAMES[index % TENANT_NAMES.length] ?? 'contoso';
    const name = def.name ?? (index < TENANT_NAMES.length ? baseName : `${baseName}${Math.floor(index / TENANT_NAMES.length) + 1}`);
    const scenario = def.scenario ?? 'healthy';
    const tenantSeed = String(def.seed ?? seed);
    const model = buildTenantModel(tenantSeed, id, name);
    const catalog = new SyntheticCatalog({
      seed: tenantSeed,
      model,
      eventsPerHour: def.eventsPerHour ?? options.eventsPerHour ?? DEFAULTS.eventsPerHour,
      recordsPerBlob: def.recordsPerBlob ?? options.recordsPerBlob ?? DEFAULTS.recordsPerBlob,
      historyStartMs: startMs - (def.historyHours ?? DEFAULTS.historyHours) * 3_600_000,
      lateFraction: def.lateFraction ?? DEFAULTS.lateFraction,
      lateTail: lateTailOf(def.lateTail ?? options.lateTail),
      duplicateWithinFraction: def.duplicateWithinFraction ?? DEFAULTS.duplicateWithinFraction,
      duplicateAcrossFraction: def.duplicateAcrossFraction ?? DEFAULTS.duplicateAcrossFraction,
      bomFraction: def.bomFraction ?? options.bomFraction ?? DEFAULTS.bomFraction,
      corruptFraction: scenario === 'faulty' ? DEFAULTS.faultyCorruptFraction : 0,
      largeBlob: def.largeBlob ? { sizeBytes: def.largeBlob.sizeBytes, contentCreatedMs: startMs - (def.largeBlob.minutesAgo ?? 30) * 60_000 } : undefined,
    });
    const tenant = newTenant(id, name, def.plan ?? PLANS[index % PLANS.length] ?? 'E3', scenario, 'synthetic', catalog, tenantSeed);
    tenant.firstContentDelayMs = (options.firstContentDelayMinutes ?? DEFAULTS.firstContentDelayMinutes) * 60_000;
    tenant.quotaPerMinute = def.quotaPerMinute ?? (scenario === 'throttled' ? (options.throttledQuotaPerMinute ?? DEFAULTS.throttledQuotaPerMinute) : quota);
    for (const ct of def.subscribed ?? []) tenant.subscriptions.set(ct, { status: 'enabled', webhook: null });
    return tenant;
  });
  if (options.fixturesDir !== undefined) {
    for (const f of loadFixtureTenants(options.fixturesDir, startMs, options.fixturesShiftToNow ?? true)) {
      const scenario = isScenario(f.scenario) ? f.scenario : 'healthy';
      const tenant = newTenant(f.tenantId.toLowerCase(), f.name, f.plan, scenario, 'fixture', f.catalog, seed);
      tenant.quotaPerMinute = scenario === 'throttled' ? (options.throttledQuotaPerMinute ?? DEFAULTS.throttledQuotaPerMinute) : quota;
      tenants.push(tenant);
    }
  }
  const seen = new Set<string>();
  for (const t of tenants) {
    if (seen.has(t.id)) throw new Error(`Tenant ${t.id} is defined twice.`);
    seen.add(t.id);
  }
  return tenants;
}

function lateTailOf(tail: SimulatorOptions['lateTail']): { fraction: number; delaysHours: readonly number[] } | undefined {
  if (tail === undefined || tail.fraction <= 0) return undefined;
  return { fraction: tail.fraction, delaysHours: tail.delaysHours ?? DEFAULT_LATE_TAIL_DELAYS_HOURS };
}

function newTenant(id: string, name: string, plan: string, scenario: Scenario, source: Tenant['source'], catalog: BlobCatalog, seed: string): Tenant {
  return {
    id,
    name,
    domain: `${name}.onmicrosoft.com`,
    plan,
    scenario,
    source,
    quotaPerMinute: DEFAULTS.quotaPerMinute,
    catalog,
    subscriptions: new Map(),
    stoppedGaps: new Map(),
    stoppedSince: new Map(),
    lastStartAt: new Map(),
    auditEnabled: scenario !== 'audit-disabled',
    firstStartedAt: new Map(),
    firstContentDelayMs: 0,
    faultRng: rngFor(seed, id, 'faults'),
  };
}
