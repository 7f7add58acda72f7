import { z } from 'zod';
import { CLOUD_NAMES } from '../config/clouds.ts';
import { DESIRED_STATES, type TenantRecord } from '../contracts/tenant-registry.ts';
import { CONNECTION_STATES } from '../lifecycle/state-machine.ts';

/** The tenant record on the compacted registry topic (key = tenant id). Loose on reasons so a newer writer's reason does not make a record unreadable. */
const statusSchema = z.object({
  state: z.enum(CONNECTION_STATES),
  reason: z.string(),
  remedy: z.string(),
  code: z.string().optional(),
  since: z.string(),
  consentedAt: z.string().optional(),
  firstContentAt: z.string().optional(),
});

export const tenantRecordSchema = z.object({
  id: z.string().min(1),
  displayName: z.string(),
  cloud: z.enum(CLOUD_NAMES),
  plan: z.string(),
  requestsPerMinute: z.number().int().positive().optional(),
  desiredState: z.enum(DESIRED_STATES),
  origin: z.enum(['config', 'api', 'legacy-import']),
  createdAt: z.string(),
  updatedAt: z.string(),
  deauthorizedAt: z.string().optional(),
  parkedCursor: z.object({ lowerBound: z.string(), done: z.record(z.string(), z.string()), updatedAt: z.string() }).loose().optional(),
  legacy: z.object({ lastCollectedTime: z.string(), lastContentIds: z.array(z.string()), importedAt: z.string() }).optional(),
  maintenance: z.object({ from: z.string(), to: z.string() }).optional(),
  status: statusSchema,
  history: z.array(z.object({ at: z.string(), from: z.enum(CONNECTION_STATES), to: z.enum(CONNECTION_STATES), reason: z.string() })),
  revision: z.number().int().min(0),
});

export function encodeTenantRecord(record: TenantRecord): { key: string; value: string; headers: Record<string, string> } {
  return { key: record.id, value: JSON.stringify(record), headers: { 'content-type': 'application/json' } };
}

export type DecodedTenantRecord =
  | { kind: 'record'; record: TenantRecord }
  | { kind: 'tombstone'; key: string }
  | { kind: 'invalid'; key: string | null; detail: string };

export function decodeTenantRecord(key: Buffer | null, value: Buffer | null): DecodedTenantRecord {
  if (key === null) return { kind: 'invalid', key: null, detail: 'record has no key' };
  const id = key.toString('utf8');
  if (value === null) return { kind: 'tombstone', key: id };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { kind: 'invalid', key: id, detail: `value is not JSON: ${(error as Error).message}` };
  }
  const parsed = tenantRecordSchema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', key: id, detail: parsed.error.message };
  // The schema keeps reasons as strings; the state machine treats an unknown one like any other label.
  return { kind: 'record', record: parsed.data as TenantRecord };
}
