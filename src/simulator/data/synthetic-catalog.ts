import { rngFor } from '../prng.ts';
import type { BlobCatalog, BlobEntry, ServedRecord } from './catalog.ts';
import { UTF8_BOM } from './catalog.ts';
import { buildRecord } from './records.ts';
import type { TenantModel } from './tenant-model.ts';

export interface SyntheticCatalogOptions {
  seed: string;
  model: TenantModel;
  eventsPerHour: number;
  recordsPerBlob: number;
  /** No blob is older than this (epoch ms): the tenant's history starts here. */
  historyStartMs: number;
  /** Share of blobs listed late, 30 min to 3 h after contentCreated (o365-api.md §2.5). */
  lateFraction: number;
  /** The long tail: a share of blobs listed hours to days late (issue 12); undefined or fraction 0 = none. */
  lateTail?: { fraction: number; delaysHours: readonly number[] } | undefined;
  /** Share of blobs that repeat a record inside themselves / repeat the previous blob's last record (§2.6). */
  duplicateWithinFraction: number;
  duplicateAcrossFraction: number;
  bomFraction: number;
  /** Share of blobs with one persistently malformed record (the `faulty` scenario); 0 otherwise. */
  corruptFraction: number;
  largeBlob?: { sizeBytes: number; contentCreatedMs: number } | undefined;
}

const LARGE_PREFIX = '900000000000';

/**
 * Blobs on a fixed grid of slots since the Unix epoch: slot i holds one blob whose contentCreated lies
 * inside the slot. Every property of blob i (time, size, records, duplicates, BOM) comes from
 * rngFor(seed, tenant, i, …), so nothing is stored and every download is identical.
 */
export class SyntheticCatalog implements BlobCatalog {
  readonly #o: SyntheticCatalogOptions;
  readonly #slotMs: number;

  constructor(options: SyntheticCatalogOptions) {
    this.#o = options;
    this.#slotMs = Math.max(1000, Math.round((options.recordsPerBlob / options.eventsPerHour) * 3_600_000));
  }

  blobsBetween(fromMs: number, toMs: number): BlobEntry[] {
    const out: BlobEntry[] = [];
    const from = Math.max(fromMs, this.#o.historyStartMs);
    if (toMs <= from) return out;
    for (let slot = Math.floor(from / this.#slotMs); slot * this.#slotMs < toMs; slot++) {
      const entry = this.#entry(slot);
      if (entry.contentCreated >= from && entry.contentCreated < toMs) out.push(entry);
    }
    const large = this.#largeEntry();
    if (large && large.contentCreated >= from && large.contentCreated < toMs) {
      out.push(large);
      out.sort((a, b) => a.contentCreated - b.contentCreated);
    }
    return out;
  }

  find(contentId: string): BlobEntry | undefined {
    const large = this.#largeEntry();
    if (large?.contentId === contentId) return large;
    const slot = Number(contentId.split('$', 1)[0]);
    if (!Number.isSafeInteger(slot) || slot < 0) return undefined;
    const entry = this.#entry(slot);
    return entry.contentId === contentId && entry.contentCreated >= this.#o.historyStartMs ? entry : undefined;
  }

  prefix(entry: BlobEntry): string {
    return this.#rng(entry, 'bom').chance(this.#o.bomFraction) ? UTF8_BOM : '';
  }

  corruptedRecordIndex(entry: BlobEntry): number | undefined {
    if (this.#isLarge(entry)) return undefined;
    const rng = this.#rng(entry, 'corrupt');
    if (!rng.chance(this.#o.corruptFraction)) return undefined;
    return Math.floor(this.#recordCount(this.#slotOf(entry)) / 2);
  }

  *records(entry: BlobEntry): Iterable<ServedRecord> {
    if (this.#isLarge(entry)) {
      yield* this.#largeRecords(entry);
      return;
    }
    const slot = this.#slotOf(entry);
    const count = this.#recordCount(slot);
    const shape = this.#rng(entry, 'dups');
    if (slot > 0 && shape.chance(this.#o.duplicateAcrossFraction)) {
      const previous = this.#entry(slot - 1);
      yield this.#record(previous, slot - 1, this.#recordCount(slot - 1) - 1);
    }
    const repeatAt = shape.chance(this.#o.duplicateWithinFraction) ? shape.int(0, count - 1) : -1;
    for (let i = 0; i < count; i++) {
      const record = this.#record(entry, slot, i);
      yield record;
      if (i === repeatAt) yield record;
    }
  }

  #entry(slot: number): BlobEntry {
    const rng = rngFor(this.#o.seed, this.#o.model.tenantId, 'slot', slot);
    const contentCreated = slot * this.#slotMs + Math.floor(rng.next() * this.#slotMs * 0.9);
    const late = rng.chance(this.#o.lateFraction);
    let availableAt = late ? contentCreated + rng.int(30, 180) * 60_000 : contentCreated;
    const stamp = new Date(contentCreated).toISOString().replace(/\D/g, '').slice(0, 10);
    // Shaped like REF's SharePoint contentIds: `<n>$<n>$<hex>spo<yyyymmddhh>$<hex>$04`, with `$` kept.
    const contentId = `${String(slot).padStart(12, '0')}$${String(slot).padStart(12, '0')}$${rng.hex(32)}spo${stamp}$${rng.hex(32)}$04`;
    const tail = this.#o.lateTail;
    if (tail !== undefined && tail.fraction > 0 && tail.delaysHours.length > 0) {
      // Its own stream, so switching the tail on leaves every other property of the blob as it was.
      const tailRng = rngFor(this.#o.seed, this.#o.model.tenantId, 'late-tail', slot);
      if (tailRng.chance(tail.fraction)) availableAt = contentCreated + tailRng.pick(tail.delaysHours) * 3_600_000;
    }
    return { contentId, contentCreated, availableAt };
  }

  #slotOf(entry: BlobEntry): number {
    return Number(entry.contentId.split('$', 1)[0]);
  }

  #recordCount(slot: number): number {
    const mean = this.#o.recordsPerBlob;
    return Math.max(1, rngFor(this.#o.seed, this.#o.model.tenantId, 'count', slot).int(Math.ceil(mean / 2), Math.ceil(mean * 1.5)));
  }

  #record(entry: BlobEntry, slot: number, index: number): ServedRecord {
    const record = buildRecord(rngFor(this.#o.seed, this.#o.model.tenantId, 'record', slot, index), this.#o.model, entry.contentCreated);
    return { json: JSON.stringify(record), id: record.Id, operation: record.Operation, workload: record.Workload, recordType: record.RecordType };
  }

  #rng(entry: BlobEntry, purpose: string) {
    return rngFor(this.#o.seed, this.#o.model.tenantId, purpose, entry.contentId);
  }

  #largeEntry(): BlobEntry | undefined {
    const large = this.#o.largeBlob;
    if (!large) return undefined;
    const id = `${LARGE_PREFIX}$${LARGE_PREFIX}$${rngFor(this.#o.seed, this.#o.model.tenantId, 'large').hex(32)}spolarge$${large.sizeBytes}$04`;
    return { contentId: id, contentCreated: large.contentCreatedMs, availableAt: large.contentCreatedMs };
  }

  #isLarge(entry: BlobEntry): boolean {
    return entry.contentId.startsWith(`${LARGE_PREFIX}$`);
  }

  /** Records until the body reaches sizeBytes: generated one at a time, never held together. */
  *#largeRecords(entry: BlobEntry): Iterable<ServedRecord> {
    const target = this.#o.largeBlob?.sizeBytes ?? 0;
    let bytes = 2;
    for (let i = 0; bytes < target; i++) {
      const record = buildRecord(rngFor(this.#o.seed, this.#o.model.tenantId, 'large-record', i), this.#o.model, entry.contentCreated);
      const json = JSON.stringify(record);
      bytes += Buffer.byteLength(json) + 1;
      yield { json, id: record.Id, operation: record.Operation, workload: record.Workload, recordType: record.RecordType };
    }
  }
}
