/**
 * Property-based fuzzing of the record path (DESIGN invariant 2): mutated realistic records, and blobs
 * built from them with damaged bytes, go through parseRecords, normalize and deliverBlob. Nothing
 * throws; every record ends as exactly one of an event that validates against
 * schema/file-event.v1.json, a filtered record with a FilterReason, or a dead letter with a
 * RejectReason; and deliverBlob's accounting holds: records in = published + filtered + rejected.
 *
 * Shared by the unit suite (FUZZ_RECORDS, default 20,000 records per property, ~15 s on 2 cores) and the
 * integration suite (100,000 per property). FUZZ_SEED replays a failing run (fast-check prints the
 * seed and the path).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NormalizeResult } from '../../../src/contracts/file-event.ts';
import { parseRecords } from '../../../src/parse/records.ts';
import { deliverBlob } from '../../../src/pipeline/deliver-blob.ts';
import { RecentEventIds } from '../../../src/pipeline/recent-event-ids.ts';
import { MemorySink } from '../../../src/sink/memory-sink.ts';
import { normalize } from '../../../src/transform/normalize/index.ts';
import { FixedCursorSource } from '../../contract/sink.contract.ts';
import { schemaErrors } from '../transform/schema-validator.ts';
import { byteDamage, chunked, damage, FILTER_REASONS, mutatedRecord, REJECT_REASONS, seedRecords, serialise } from './mutations.ts';

const SEED = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);
const BATCH = { min: 20, max: 60, size: 'max' as const };
const TENANT = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const NOW = new Date('2026-01-15T12:00:00.000Z');
const FILTERED = new Set<string>(FILTER_REASONS);
const REJECTED = new Set<string>(REJECT_REASONS);
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, ...(SEED === undefined ? {} : { seed: SEED }) });

const { records: seeds, fromSamples } = seedRecords();
const context = { tenantId: TENANT, now: () => NOW };

/** Checks one normalize outcome; returns a problem description or null. */
function problemWith(result: NormalizeResult): string | null {
  switch (result.kind) {
    case 'event': {
      const errors = schemaErrors(result.event);
      return errors === null ? null : `event does not validate: ${errors}`;
    }
    case 'filtered':
      return FILTERED.has(result.reason) ? null : `unknown filter reason ${result.reason}`;
    case 'rejected':
      // normalizer-error is a RejectReason, but it means normalize hit a bug and caught it.
      if (result.reason === 'normalizer-error') return `normalizer-error: ${result.detail}`;
      return REJECTED.has(result.reason) && result.detail.length > 0 ? null : `bad rejection ${result.reason} (${result.detail})`;
    default:
      return `unknown outcome ${JSON.stringify(result)}`;
  }
}

/** Declares the three fuzz properties with `target` records for each of the first two. */
export function describeRecordFuzzing(target: number): void {
  const TARGET = target;
  /** Runs to reach TARGET records with batches of BATCH.min..max (mean 40), with slack for fast-check's bias to small sizes. */
  const RUNS = Math.ceil((TARGET / ((BATCH.min + BATCH.max) / 2)) * 1.25);
  describe(`fuzzing the record path (${TARGET} records per property, ${seeds.length} seeds, ${fromSamples} from shared/samples)`, () => {
  it('normalize never throws and each record is exactly one valid event, filtered or rejected', () => {
    let records = 0;
    const outcomes = { event: 0, filtered: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.array(mutatedRecord(seeds), { minLength: BATCH.min, maxLength: BATCH.max, size: BATCH.size }), (batch) => {
        for (const { value } of batch) {
          // What the parser hands over is always a JSON value: round-trip so prototype keys are own properties.
          const input = JSON.parse(JSON.stringify(value)) as unknown;
          const result = normalize(input, context);
          records += 1;
          outcomes[result.kind] += 1;
          const problem = problemWith(result);
          if (problem !== null) throw new Error(`${problem}\nrecord: ${JSON.stringify(input).slice(0, 2000)}`);
        }
      }),
      params(RUNS),
    );
    console.log(`fuzz normalize: ${records} records → ${JSON.stringify(outcomes)}`);
    expect(records).toBeGreaterThanOrEqual(TARGET);
    // The mutations must leave enough records valid to exercise the event path, and break enough.
    expect(outcomes.event).toBeGreaterThan(records / 10);
    expect(outcomes.rejected).toBeGreaterThan(records / 20);
  }, 600_000);

  it('parseRecords + deliverBlob with a MemorySink: records in = published + filtered + dead-lettered', async () => {
    let records = 0;
    let blobs = 0;
    const totals = { published: 0, filtered: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutatedRecord(seeds), { minLength: BATCH.min, maxLength: BATCH.max, size: BATCH.size }),
        fc.constantFrom('array' as const, 'ndjson' as const),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('exactly-once' as const, 'at-least-once' as const),
        fc.integer({ min: 1, max: 50 }),
        async (batch, format, bom, chunkSizes, mode, batchEvents) => {
          const values = batch.map((r) => r.value);
          const sink = new MemorySink({ mode });
          await sink.start();
          const recentIds = new RecentEventIds(1000);
          const cursor = new FixedCursorSource(TENANT, NOW.toISOString());
          const tally = await deliverBlob({ tenantId: TENANT, contentId: `c${blobs}`, contentUri: 'https://manage.example.test/c' }, chunked(serialise(values, format, bom), chunkSizes), {
            sink,
            normalize: (record) => {
              const result = normalize(record, context);
              const problem = problemWith(result);
              if (problem !== null) throw new Error(`${problem}\nrecord: ${JSON.stringify(record).slice(0, 2000)}`);
              return result;
            },
            recentIds,
            batchEvents,
            finalAttempt: true,
            cursor,
            startAt: 0,
            onDurable: () => undefined,
          });
          blobs += 1;
          records += tally.records;
          const summary = { published: 0, filtered: 0, rejected: 0, ...tally.summary() };
          totals.published += summary.published;
          totals.filtered += summary.filtered;
          totals.rejected += summary.rejected;
          // Undamaged bytes: one parsed record per record, and each is accounted for exactly once. One
          // exception by design: NDJSON whose first value is an array reads as a JSON array, which then
          // breaks at the second line and ends as one malformed item (dead-lettered, so still counted).
          if (format === 'array' || !Array.isArray(values[0])) expect(tally.records).toBe(values.length);
          else expect(tally.records).toBeGreaterThanOrEqual(1);
          expect(sink.log.events.length).toBe(summary.published);
          expect(sink.log.deadLetters.length).toBe(summary.rejected);
          expect(new Set(sink.log.events.map((e) => e.event.event.id)).size).toBe(summary.published);
          expect([...tally.filtered.keys()].every((reason) => FILTERED.has(reason) || reason === 'duplicate')).toBe(true);
          expect(sink.log.deadLetters.every((d) => REJECTED.has(d.reason))).toBe(true);
          if (mode === 'exactly-once') expect(sink.log.checkpoints).toHaveLength(1);
        },
      ),
      params(RUNS),
    );
    console.log(`fuzz deliverBlob: ${records} records in ${blobs} blobs → ${JSON.stringify(totals)}`);
    expect(totals.published + totals.filtered + totals.rejected).toBe(records);
    expect(records).toBeGreaterThanOrEqual(TARGET * 0.95);
  }, 600_000);

  it('damaged bytes: parseRecords never throws and deliverBlob still accounts for every item it parsed', async () => {
    let items = 0;
    let malformed = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutatedRecord(seeds), { minLength: 1, maxLength: 30 }),
        fc.constantFrom('array' as const, 'ndjson' as const),
        fc.boolean(),
        fc.array(byteDamage, { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 8192 }), { minLength: 1, maxLength: 4 }),
        async (batch, format, bom, changes, chunkSizes) => {
          const bytes = damage(serialise(batch.map((r) => r.value), format, bom), changes);
          const parsed: string[] = [];
          for await (const item of parseRecords(chunked(bytes, chunkSizes))) {
            parsed.push(item.kind);
            if (item.kind === 'malformed') {
              expect(item.detail.length).toBeGreaterThan(0);
              expect((item.raw ?? '').length).toBeLessThanOrEqual(1024);
            }
          }
          items += parsed.length;
          malformed += parsed.filter((k) => k === 'malformed').length;
          const sink = new MemorySink({ mode: 'at-least-once' });
          await sink.start();
          const tally = await deliverBlob({ tenantId: TENANT, contentId: 'damaged', contentUri: 'https://manage.example.test/d' }, chunked(bytes, chunkSizes), {
            sink,
            normalize: (record) => normalize(record, context),
            recentIds: new RecentEventIds(100),
            batchEvents: 10,
            finalAttempt: true,
            cursor: new FixedCursorSource(TENANT, undefined),
            startAt: 0,
            onDurable: () => undefined,
          });
          // The same bytes parse the same way twice, and every parsed item is accounted for once.
          expect(tally.records).toBe(parsed.length);
          expect(sink.log.events.length + sink.log.deadLetters.length + [...tally.filtered.values()].reduce((a, n) => a + n, 0)).toBe(parsed.length);
        },
      ),
      params(Math.max(200, Math.ceil(RUNS / 5))),
    );
    console.log(`fuzz damaged blobs: ${items} parsed items, ${malformed} malformed`);
    expect(items).toBeGreaterThan(0);
  }, 600_000);
});
}
