/**
 * Seeds and mutations for fuzzing the parser, the normalizer and deliverBlob: realistic records
 * (the public samples in shared/samples and the simulator's generator) damaged the ways real input
 * drifts or an attacker would try — dropped fields, wrong types, numbers as strings, huge strings,
 * any unicode, nested junk, prototype-pollution keys — and blobs whose bytes are damaged.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { FilterReason, RejectReason } from '../../../src/contracts/file-event.ts';
import { buildRecord } from '../../../src/simulator/data/records.ts';
import { buildTenantModel } from '../../../src/simulator/data/tenant-model.ts';
import { OPERATIONS } from '../../../src/simulator/data/vocabulary.ts';
import { rngFor } from '../../../src/simulator/prng.ts';

export type Json = Record<string, unknown>;

/** Every FilterReason and RejectReason, checked against the types in both directions at compile time. */
export const FILTER_REASONS = [
  'folder-operation',
  'page-or-list-view',
  'site-administration',
  'sharing-administration',
  'other-workload',
  'not-a-file-operation',
  'unknown-operation',
] as const satisfies readonly FilterReason[];
export const REJECT_REASONS = ['not-an-object', 'missing-field', 'invalid-field', 'unparsable-json', 'normalizer-error'] as const satisfies readonly RejectReason[];
type Exhaustive<All, Listed> = [All] extends [Listed] ? true : never;
const filterListComplete: Exhaustive<FilterReason, (typeof FILTER_REASONS)[number]> = true;
const rejectListComplete: Exhaustive<RejectReason, (typeof REJECT_REASONS)[number]> = true;
void filterListComplete;
void rejectListComplete;

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
export const SAMPLES_DIR = process.env['SAMPLES_DIR'] ?? join(repoRoot, '..', 'shared', 'samples');

/** The public sample records (when the folder is there) plus 300 from the simulator's generator. */
export function seedRecords(): { records: Json[]; fromSamples: number } {
  const records: Json[] = [];
  if (existsSync(SAMPLES_DIR)) {
    for (const name of readdirSync(SAMPLES_DIR).filter((n) => n.endsWith('.json')).sort()) {
      const parsed = JSON.parse(readFileSync(join(SAMPLES_DIR, name), 'utf8').replace(/^\uFEFF/, '')) as unknown;
      for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
        if (typeof item === 'object' && item !== null && !Array.isArray(item)) records.push(item as Json);
      }
    }
  }
  const fromSamples = records.length;
  const tenantId = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
  const model = buildTenantModel('fuzz', tenantId, 'contoso');
  const now = Date.UTC(2026, 0, 15, 12);
  for (let i = 0; i < 300; i++) records.push(buildRecord(rngFor('fuzz', tenantId, i), model, now));
  return { records, fromSamples };
}

/** Fields the normalizer reads: most mutations aim at these. */
const KEYS = [
  'Id', 'Operation', 'CreationTime', 'RecordType', 'Workload', 'ObjectId', 'UserId', 'UserKey', 'UserType', 'SiteUrl',
  'SourceRelativeUrl', 'SourceFileName', 'SourceFileExtension', 'DestinationRelativeUrl', 'DestinationFileName',
  'ItemType', 'ClientIP', 'FileSizeBytes', 'OrganizationId', 'Site', 'WebId', 'ListId', 'ListItemUniqueId',
  'TargetUserOrGroupName', 'TargetUserOrGroupType', 'UserSharedWith', 'EventData', 'IsManagedDevice', 'UserAgent',
  'CorrelationId', 'GeoLocation', 'Platform', 'ApplicationDisplayName', 'UniqueSharingId',
] as const;
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'] as const;
const OPERATION_NAMES = OPERATIONS.map(([name]) => name);

/** Values that are plausible for some field and wrong, or edge cases, for another. */
const tricky = fc.constantFrom<unknown>(
  '', ' ', '\t\n', '0', '-1', '6', ' 14 ', '1e3', '0x10', 'NaN', 'Infinity', 'null', 'true', 'False', 'TRUE',
  0, -0, -1, 1.5, 2 ** 53, -(2 ** 53), 1e308, Number.MAX_SAFE_INTEGER, true, false, null, [], {}, [null], { '': '' },
  '2024-02-30T10:00:00', '2024-13-01T00:00:00', '0000-01-01T00:00:00', '9999-12-31T23:59:59-23:59', '0099-06-01T00:00:00+14:00',
  '2024-06-01T24:00:00', '2024-06-01T10:00:00.123456789Z', '2024-06-01t10:00:00z', '2024-06-01T10:00:00+2399',
  'https://x-my.sharepoint.com/personal/', 'https://x-my.sharepoint.com/personal/a_b_com/Documents/%E0%A4%A.docx',
  'https://x.sharepoint.com/sites/a/%%/b.pdf', 'https://x-my.sharepoint.com/personal//', '/', '//', 'a/b/../../c.txt',
  'https://[::1]:443/x', 'javascript:alert(1)', 'file:///etc/passwd',
  '::ffff:203.0.113.5', '[2001:db8::1]:443', '203.0.113.5:51234', '999.1.1.1', '1.2.3', '::', 'fe80::1%eth0',
  'a@b', '@', 'user@', '@domain', 'UPPER@EXAMPLE.COM', 'i:0#.f|membership|x@y.z', 'urn:spo:guest#a@b.c', 'SHAREPOINT\\system',
  'OneDrive', 'onedrive', 'ONEDRIVE', 'SharePoint', 'Exchange', 'File', 'folder', 'Page', 'Web',
  '\u0000', '\uFEFF', '\u202Etxt.exe', 'ﬁle.docx', 'Ǆ', '😀'.repeat(10), '\uD800', '\uDFFF',
);

const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: tricky },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(...OPERATION_NAMES).chain((op) => fc.mixedCase(fc.constant(op))) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }).map((depth) => nest(depth * 40)) },
);

function nest(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

function hugeString(length: number, unicode: boolean): string {
  const unit = unicode ? 'ä😀\u0301€' : 'x';
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** One change to a record; applied in place on a copy. */
type Mutation = (record: Json, keys: readonly string[]) => void;

const pickKey = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.nat() });
const keyOf = (key: string | number, record: Json): string => (typeof key === 'string' ? key : (Object.keys(record)[key % Math.max(1, Object.keys(record).length)] ?? 'Id'));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Huge strings are rare: they cost parse time, and one per blob already tests the path.
  { weight: 1, arbitrary: fc.tuple(pickKey, fc.integer({ min: 4_000, max: 70_000 }), fc.boolean()).map(([k, n, u]): Mutation => (r) => (r[keyOf(k, r)] = hugeString(n, u))) },
  { weight: 12, arbitrary: pickKey.map((k): Mutation => (r) => delete r[keyOf(k, r)]) },
  { weight: 12, arbitrary: fc.tuple(pickKey, junk).map(([k, v]): Mutation => (r) => (r[keyOf(k, r)] = v)) },
  // Numbers as strings and strings as numbers.
  { weight: 4, arbitrary: pickKey.map((k): Mutation => (r) => {
    const key = keyOf(k, r);
    const value = r[key];
    if (typeof value === 'number') r[key] = String(value);
    else if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) r[key] = Number(value);
    else if (typeof value === 'boolean') r[key] = value ? 'True' : 'False';
  }) },
  { weight: 4, arbitrary: fc.tuple(pickKey, fc.string({ unit: 'binary', minLength: 1, maxLength: 60 })).map(([k, s]): Mutation => (r) => {
    const key = keyOf(k, r);
    const value = r[key];
    // Unicode spliced into a real value keeps the rest of the shape.
    r[key] = typeof value === 'string' ? `${value.slice(0, value.length >> 1)}${s}${value.slice(value.length >> 1)}` : s;
  }) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...PROTO_KEYS), junk).map(([k, v]): Mutation => (r) => {
    // As JSON.parse creates it: an own property, never the prototype.
    Object.defineProperty(r, k, { value: v, enumerable: true, configurable: true, writable: true });
  }) },
  { weight: 4, arbitrary: fc.tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 4 })).map(([k, v]): Mutation => (r) => (r[k] = v)) },
  // A key in another case: consumers must not be case-insensitive by accident.
  {
    weight: 4,
    arbitrary: pickKey.map((k): Mutation => (r) => {
      const key = keyOf(k, r);
      if (key in r) {
        r[key.toLowerCase()] = r[key];
        delete r[key];
      }
    }),
  },
);

export interface MutatedRecord {
  value: unknown;
  mutations: number;
}

/** A seed record with 0–4 mutations; now and then not an object at all. */
export function mutatedRecord(seeds: readonly Json[]): fc.Arbitrary<MutatedRecord> {
  const changed = fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { maxLength: 4 })).map(([seed, mutations]): MutatedRecord => {
    const copy = structuredClone(seed);
    for (const apply of mutations) apply(copy, KEYS);
    return { value: copy, mutations: mutations.length };
  });
  return fc.oneof({ weight: 30, arbitrary: changed }, { weight: 1, arbitrary: junk.map((value): MutatedRecord => ({ value, mutations: 1 })) });
}

/** Byte-level damage to a serialised blob. */
export type ByteDamage = { kind: 'flip'; at: number; bits: number } | { kind: 'truncate'; at: number } | { kind: 'insert'; at: number; bytes: Uint8Array } | { kind: 'delete'; at: number; length: number };

export const byteDamage: fc.Arbitrary<ByteDamage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.constantFrom(...['\n', '[', ']', '{', '}', ',', '"', '\\', '\uFEFF', '\u0000'].map((s) => new TextEncoder().encode(s)))),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.integer({ min: 1, max: 64 }) }),
);

export function damage(bytes: Uint8Array, changes: readonly ByteDamage[]): Uint8Array {
  let out = bytes;
  for (const change of changes) {
    const at = Math.min(out.length, Math.floor(change.at * out.length));
    if (change.kind === 'flip') {
      if (out.length === 0) continue;
      out = Uint8Array.from(out);
      const index = Math.min(at, out.length - 1);
      out[index] = (out[index] ?? 0) ^ change.bits;
    } else if (change.kind === 'truncate') {
      out = out.subarray(0, at);
    } else if (change.kind === 'insert') {
      out = Buffer.concat([out.subarray(0, at), change.bytes, out.subarray(at)]);
    } else {
      out = Buffer.concat([out.subarray(0, at), out.subarray(at + change.length)]);
    }
  }
  return out;
}

/** Serialises records as the API would (a JSON array) or as NDJSON, with or without a BOM. */
export function serialise(values: readonly unknown[], format: 'array' | 'ndjson', bom: boolean): Uint8Array {
  const body = format === 'array' ? JSON.stringify(values) : values.map((v) => JSON.stringify(v)).join('\n');
  return new TextEncoder().encode(`${bom ? '\uFEFF' : ''}${body}`);
}

/** The bytes in chunks of the given sizes (cycled), as a download would arrive. */
export function chunked(bytes: Uint8Array, sizes: readonly number[]): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => {
      let at = 0;
      let i = 0;
      return {
        next: (): Promise<IteratorResult<Uint8Array>> => {
          if (at >= bytes.length) return Promise.resolve({ done: true, value: undefined });
          const size = Math.max(1, sizes[i++ % Math.max(1, sizes.length)] ?? 65_536);
          const value = bytes.subarray(at, at + size);
          at += size;
          return Promise.resolve({ done: false, value });
        },
      };
    },
  };
}
