import { describe, expect, it } from 'vitest';
import { SyntheticCatalog, type SyntheticCatalogOptions } from '../../../src/simulator/data/synthetic-catalog.ts';
import { buildTenantModel } from '../../../src/simulator/data/tenant-model.ts';
import { buildTenants } from '../../../src/simulator/tenants.ts';

const H = 3_600_000;
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const TENANT = '0b7e2d8c-5a4f-4e3b-9c1d-2f6a8b0c4d1e';

function catalog(lateTail?: SyntheticCatalogOptions['lateTail'], seed = 'tail'): SyntheticCatalog {
  return new SyntheticCatalog({
    seed,
    model: buildTenantModel(seed, TENANT, 'contoso'),
    eventsPerHour: 300,
    recordsPerBlob: 10,
    historyStartMs: NOW - 170 * H,
    lateFraction: 0.05,
    duplicateWithinFraction: 0,
    duplicateAcrossFraction: 0,
    bomFraction: 0,
    corruptFraction: 0,
    lateTail,
  });
}

describe('simulator late-listing tail (issue 12)', () => {
  it('lists a seeded fraction of blobs 6 h, 24 h or 3 days late and leaves every other property as it was', () => {
    const plain = catalog().blobsBetween(NOW - 168 * H, NOW);
    const tailed = catalog({ fraction: 0.1, delaysHours: [6, 24, 72] }).blobsBetween(NOW - 168 * H, NOW);
    expect(tailed.map((b) => [b.contentId, b.contentCreated])).toEqual(plain.map((b) => [b.contentId, b.contentCreated]));
    const delays = tailed.map((b, i) => (b.availableAt === plain[i]?.availableAt ? undefined : b.availableAt - b.contentCreated)).filter((d) => d !== undefined);
    // ~5,000 blobs in the week: about 500 in the tail.
    expect(plain.length).toBeGreaterThan(4500);
    expect(delays.length / plain.length).toBeGreaterThan(0.07);
    expect(delays.length / plain.length).toBeLessThan(0.13);
    expect(new Set(delays)).toEqual(new Set([6 * H, 24 * H, 72 * H]));
    // Seeded: the same again, and another seed picks other blobs.
    expect(catalog({ fraction: 0.1, delaysHours: [6, 24, 72] }).blobsBetween(NOW - 168 * H, NOW)).toEqual(tailed);
    const other = catalog({ fraction: 0.1, delaysHours: [6, 24, 72] }, 'other').blobsBetween(NOW - 168 * H, NOW);
    expect(other.map((b) => b.availableAt - b.contentCreated)).not.toEqual(tailed.map((b) => b.availableAt - b.contentCreated));
  });

  it('is off unless asked for, and per-tenant settings override the simulator-wide one', () => {
    const [quiet] = buildTenants({ seed: 's', tenants: 1, eventsPerHour: 600, recordsPerBlob: 10 }, NOW);
    const [loud, off] = buildTenants({ seed: 's', tenants: [{ eventsPerHour: 600, recordsPerBlob: 10 }, { eventsPerHour: 600, recordsPerBlob: 10, lateTail: { fraction: 0 } }], lateTail: { fraction: 0.5, delaysHours: [24] } }, NOW);
    const longest = (blobs: Array<{ contentCreated: number; availableAt: number }> | undefined): number => Math.max(...(blobs ?? []).map((b) => b.availableAt - b.contentCreated));
    expect(longest(quiet?.catalog.blobsBetween(NOW - 100 * H, NOW))).toBeLessThanOrEqual(3 * H);
    expect(longest(loud?.catalog.blobsBetween(NOW - 100 * H, NOW))).toBe(24 * H);
    expect(longest(off?.catalog.blobsBetween(NOW - 100 * H, NOW))).toBeLessThanOrEqual(3 * H);
  });
});
