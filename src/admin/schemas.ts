import { z } from 'zod';
import { CLOUD_NAMES } from '../config/clouds.ts';
import { CONNECTION_STATES } from '../lifecycle/state-machine.ts';
import { tenantRecordSchema } from '../lifecycle/tenant-record-schema.ts';

/** Request and response bodies of the admin API: validated with these, and documented from them (openapi.ts). */
const guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a GUID')
  .meta({ example: '11111111-1111-4111-8111-111111111111' });
const isoTime = z.iso.datetime({ offset: true });

export const addTenantBody = z.strictObject({
  id: guid,
  displayName: z.string().min(1).max(256).optional(),
  cloud: z.enum(CLOUD_NAMES).default('commercial'),
  plan: z.string().min(1).max(64).default('unknown'),
  requestsPerMinute: z.number().int().positive().max(1_000_000).optional(),
});

/** The legacy connector's export for one tenant (docs/lifecycle.md "Upgrade from the legacy connector"). */
export const legacyImportBody = z.strictObject({
  tenant: guid,
  displayName: z.string().min(1).max(256),
  /** Everything the legacy connector listed with contentCreated before this was collected by it. */
  lastCollectedTime: isoTime,
  /** contentIds it collected at or after lastCollectedTime (skipped here). */
  lastContentIds: z.array(z.string().min(1).max(512)).max(100_000),
  cloud: z.enum(CLOUD_NAMES).default('commercial'),
  plan: z.string().min(1).max(64).default('unknown'),
  /** When the upgrade runs (the tenant shows Maintenance meanwhile); default: from now for an hour. */
  window: z.strictObject({ from: isoTime, to: isoTime }).optional(),
});

export const maintenanceBody = z.strictObject({ from: isoTime, to: isoTime });

/** A registry record without what only the connector reads: the parked cursor and the revision (server.ts view()). */
export const tenantView = tenantRecordSchema.omit({ parkedCursor: true, revision: true });

export const tenantList = z.object({ tenants: z.array(tenantView.omit({ history: true, legacy: true })) });
export const importResult = z.object({ imported: z.boolean(), tenant: tenantView });
export const consentUrlView = z.object({ url: z.string(), expiresAt: z.string() });
export const consentResult = z.object({ tenant: z.string(), outcome: z.enum(['granted', 'denied']), state: z.enum(CONNECTION_STATES) });
export const problemView = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
