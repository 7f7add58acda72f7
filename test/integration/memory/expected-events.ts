import type { RunningSimulator } from '../../../src/simulator/index.ts';
import { normalize } from '../../../src/transform/normalize/index.ts';

export interface ExpectedEvents {
  /** Event ids a complete run publishes, per tenant. */
  eventIds: Map<string, Set<string>>;
  /** Records served in all blobs, duplicates included: what records_total must add up to. */
  servedRecords: number;
  /** Blobs listed, all tenants. */
  blobs: number;
  /** Per tenant: copies served beyond the first of each record (Microsoft's repeats). */
  repeats: Map<string, number>;
}

/**
 * What a perfect client collects from a simulator whose clock stands still: every record of every
 * blob listed now, run through the real normalizer to keep those that become events.
 */
export async function expectedEvents(sim: RunningSimulator): Promise<ExpectedEvents> {
  const eventIds = new Map<string, Set<string>>();
  let servedRecords = 0;
  let blobs = 0;
  const repeats = new Map<string, number>();
  for (const tenant of sim.tenants) {
    const truth = await sim.expectedRecords(tenant.id);
    servedRecords += truth.servedRecords;
    blobs += truth.blobs.length;
    repeats.set(tenant.id, truth.servedRecords - truth.records.size);
    const ids = new Set<string>();
    for (const record of truth.records.values()) {
      const result = normalize(JSON.parse(record.json.replace(/^\uFEFF/, '')) as unknown, { tenantId: tenant.id, now: () => new Date() });
      if (result.kind === 'event') ids.add(record.id);
    }
    eventIds.set(tenant.id, ids);
  }
  return { eventIds, servedRecords, blobs, repeats };
}
