import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { BlobCatalog, BlobEntry, ServedRecord } from './catalog.ts';
import { UTF8_BOM } from './catalog.ts';

/**
 * A recorded tenant replayed from a folder (format: fixtures/README.md). Listing entries and blob
 * files are read as recorded; only times are shifted so the newest blob sits at the simulator's start
 * time, which keeps the 7-day expiry and window rules meaningful whenever the fixture is replayed.
 */
export const tenantFileSchema = z.strictObject({
  tenantId: z.string().regex(/^[0-9a-f-]{36}$/i),
  name: z.string().min(1),
  plan: z.string().default('E3'),
  scenario: z.string().optional(),
  description: z.string().optional(),
});

export const listingEntrySchema = z.strictObject({
  contentId: z.string().min(1),
  contentCreated: z.iso.datetime(),
  /** Minutes after contentCreated before the blob is listed (late blobs, o365-api.md §2.5). */
  availableAfterMinutes: z.number().nonnegative().default(0),
  /** Blob file, relative to the tenant folder. */
  file: z.string().min(1),
});
export const listingSchema = z.array(listingEntrySchema);
export type TenantFile = z.input<typeof tenantFileSchema>;
export type ListingEntry = z.infer<typeof listingEntrySchema>;

export interface FixtureTenant {
  tenantId: string;
  name: string;
  plan: string;
  scenario: string | undefined;
  catalog: FixtureCatalog;
}

interface FixtureBlob extends BlobEntry {
  file: string;
}

export class FixtureCatalog implements BlobCatalog {
  readonly #blobs: FixtureBlob[];
  readonly #byId: Map<string, FixtureBlob>;
  readonly #dir: string;

  constructor(dir: string, blobs: FixtureBlob[]) {
    this.#dir = dir;
    this.#blobs = [...blobs].sort((a, b) => a.contentCreated - b.contentCreated);
    this.#byId = new Map(blobs.map((b) => [b.contentId, b]));
  }

  /** Every recorded blob, listed yet or not, in contentCreated order (what a complete replay must collect). */
  entries(): Array<BlobEntry & { file: string }> {
    return this.#blobs.map(({ contentId, contentCreated, availableAt, file }) => ({ contentId, contentCreated, availableAt, file }));
  }

  blobsBetween(fromMs: number, toMs: number): BlobEntry[] {
    return this.#blobs.filter((b) => b.contentCreated >= fromMs && b.contentCreated < toMs);
  }

  find(contentId: string): BlobEntry | undefined {
    return this.#byId.get(contentId);
  }

  prefix(entry: BlobEntry): string {
    return this.#text(entry).startsWith(UTF8_BOM) ? UTF8_BOM : '';
  }

  corruptedRecordIndex(): number | undefined {
    return undefined;
  }

  *records(entry: BlobEntry): Iterable<ServedRecord> {
    const parsed: unknown = JSON.parse(this.#text(entry).replace(/^\uFEFF/, ''));
    if (!Array.isArray(parsed)) throw new Error(`Fixture blob ${entry.contentId} is not a JSON array.`);
    for (const record of parsed as Record<string, unknown>[]) {
      yield {
        json: JSON.stringify(record),
        id: String(record['Id']),
        operation: String(record['Operation']),
        workload: String(record['Workload']),
        recordType: Number(record['RecordType']),
      };
    }
  }

  #text(entry: BlobEntry): string {
    const blob = this.#byId.get(entry.contentId);
    if (!blob) throw new Error(`Unknown fixture blob ${entry.contentId}.`);
    return readFileSync(join(this.#dir, blob.file), 'utf8');
  }
}

/**
 * Loads one tenant folder. `anchorMs` is where the newest blob's contentCreated lands when
 * `shiftToNow` is on; recorded gaps between blobs are kept.
 */
export function loadFixtureTenant(dir: string, anchorMs: number, shiftToNow = true): FixtureTenant {
  const tenant = tenantFileSchema.parse(JSON.parse(readFileSync(join(dir, 'tenant.json'), 'utf8')));
  const listing = listingSchema.parse(JSON.parse(readFileSync(join(dir, 'listing.json'), 'utf8')));
  const newest = Math.max(...listing.map((l) => Date.parse(l.contentCreated)));
  const shift = shiftToNow && listing.length > 0 ? anchorMs - newest : 0;
  const blobs = listing.map((l) => {
    const contentCreated = Date.parse(l.contentCreated) + shift;
    if (!existsSync(join(dir, l.file))) throw new Error(`Fixture ${dir}: blob file ${l.file} is missing.`);
    return { contentId: l.contentId, contentCreated, availableAt: contentCreated + l.availableAfterMinutes * 60_000, file: l.file };
  });
  return { tenantId: tenant.tenantId, name: tenant.name, plan: tenant.plan, scenario: tenant.scenario, catalog: new FixtureCatalog(dir, blobs) };
}

/** Every tenant folder under `root` (a folder is a tenant when it holds tenant.json). */
export function loadFixtureTenants(root: string, anchorMs: number, shiftToNow = true): FixtureTenant[] {
  return fixtureTenantDirs(root).map((d) => loadFixtureTenant(d, anchorMs, shiftToNow));
}

/** The tenant folders under `root`: `root` itself when it holds tenant.json, else its sub-folders that do, sorted. */
export function fixtureTenantDirs(root: string): string[] {
  if (!existsSync(root)) throw new Error(`Fixture folder ${root} does not exist.`);
  if (existsSync(join(root, 'tenant.json'))) return [root];
  const dirs = readdirSync(root).map((d) => join(root, d)).filter((d) => statSync(d).isDirectory() && existsSync(join(d, 'tenant.json')));
  if (dirs.length === 0) throw new Error(`Fixture folder ${root} holds no recorded tenant (a folder with tenant.json; format: fixtures/README.md).`);
  return dirs.sort();
}
