import type { CloudName } from '../config/clouds.ts';
import type { TenantConfig } from '../config/schema.ts';
import type { TenantRecord, TenantRegistry } from '../contracts/tenant-registry.ts';
import { applyEvent, initialStatus } from './state-machine.ts';

export interface NewTenant {
  id: string;
  displayName?: string | undefined;
  cloud: CloudName;
  plan: string;
  requestsPerMinute?: number | undefined;
}

/** A fresh record: PendingConsent, active, no history beyond its creation. */
export function newTenantRecord(tenant: NewTenant, origin: TenantRecord['origin'], nowMs: number): TenantRecord {
  const at = new Date(nowMs).toISOString();
  return {
    id: tenant.id.toLowerCase(),
    displayName: tenant.displayName ?? tenant.id.toLowerCase(),
    cloud: tenant.cloud,
    plan: tenant.plan,
    ...(tenant.requestsPerMinute === undefined ? {} : { requestsPerMinute: tenant.requestsPerMinute }),
    desiredState: 'active',
    origin,
    createdAt: at,
    updatedAt: at,
    status: initialStatus(nowMs),
    history: [],
    revision: 0,
  };
}

/**
 * Seeds the registry from the config file's `tenants`. Precedence (docs/lifecycle.md): the registry
 * wins for every tenant it already holds, whatever the file says now, so what the admin API changed
 * (paused, deauthorized, renamed) survives a restart with an old file; the file only adds tenants the
 * registry lacks. A tenant listed in the file was put there by an operator who holds its consent, so
 * it starts at Initializing; verification moves it to Error if consent is in fact missing. Removing a
 * tenant from the file does not remove it: deauthorize it through the admin API.
 */
export async function seedRegistry(registry: TenantRegistry, tenants: readonly TenantConfig[], nowMs: number): Promise<string[]> {
  const records: TenantRecord[] = [];
  const seen = new Set<string>();
  for (const tenant of tenants) {
    if (seen.has(tenant.id) || registry.get(tenant.id) !== undefined) continue;
    seen.add(tenant.id);
    const record = newTenantRecord(tenant, 'config', nowMs);
    const consented = applyEvent(record.status, { type: 'consent-granted' }, nowMs);
    if (consented !== undefined) {
      record.status = consented.status;
      if (consented.entry !== undefined) record.history.push(consented.entry);
    }
    records.push(record);
  }
  // All at once: a registry may write them together (the Kafka one sends them in a few requests).
  await Promise.all(records.map((record) => registry.put(record)));
  return records.map((record) => record.id);
}
