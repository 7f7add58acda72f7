import type { TenantRecord } from '../contracts/tenant-registry.ts';
import { tenantRecordSchema } from '../lifecycle/tenant-record-schema.ts';

/** The tenant record on the compacted registry topic (key = tenant id), as JSON of tenantRecordSchema. */
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
