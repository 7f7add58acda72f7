import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inMemorySource, wholeContent } from '../../../src/parse/in-memory.ts';
import { fromBuffer, parseRecords, type ParsedItem } from '../../../src/parse/records.ts';
import { byteDamage, damage, mutatedRecord, seedRecords, serialise } from '../fuzz/mutations.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function collect(source: AsyncIterable<Uint8Array>): Promise<ParsedItem[]> {
  const out: ParsedItem[] = [];
  for await (const item of parseRecords(source)) out.push(item);
  return out;
}

/** The same bytes cut into chunks of `size`, as the spool holds a download. */
function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/**
 * The streaming tokenizer (@streamparser/json) drops every U+FEFF, even inside a string value
 * (`"x\uFEFFy"` comes out `"xy"`); JSON.parse keeps it, which is right. Compared without it.
 */
function withoutFeff(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null).replaceAll('\uFEFF', '')) as unknown;
}

/** The hot path must give exactly what the streaming parser gives, item for item. */
async function expectSameAsStreaming(bytes: Uint8Array, chunkSize = 7, strict = true): Promise<ParsedItem[]> {
  const streamed = await collect(fromBuffer(bytes, chunkSize));
  const inMemory = await collect(inMemorySource(chunksOf(bytes, chunkSize), bytes.length));
  if (strict) expect(inMemory).toEqual(streamed);
  else expect(withoutFeff(inMemory)).toEqual(withoutFeff(streamed));
  return inMemory;
}

describe('parseRecords on an in-memory blob (the native JSON.parse hot path)', () => {
  it('offers the whole content only for in-memory sources', () => {
    const bytes = enc('[1,2,3]');
    expect(wholeContent(fromBuffer(bytes))).toBeUndefined();
    expect(Buffer.from(wholeContent(inMemorySource(chunksOf(bytes, 2), bytes.length)) ?? []).toString()).toBe('[1,2,3]');
  });

  it('still reads as ordinary chunks, twice', async () => {
    const bytes = enc('[{"a":1}]');
    const source = inMemorySource(chunksOf(bytes, 3), bytes.length);
    for (let round = 0; round < 2; round++) {
      const parts: Uint8Array[] = [];
      for await (const chunk of source) parts.push(chunk);
      expect(Buffer.concat(parts).toString()).toBe('[{"a":1}]');
    }
  });

  it('gives the same items as streaming for arrays, BOMs, single documents, NDJSON and empty input', async () => {
    const inputs = [
      '[{"Id":"a"},{"Id":"b"}]',
      '\uFEFF[{"n":"é"},{"n":"😀 x"}]',
      '  \n [ ] \n',
      '',
      '\uFEFF',
      '{\n  "Id": "pretty",\n  "Operation": "FileAccessed"\n}\n',
      '{"Id":"one"}\n',
      '{"Id":"a"}\n{"Id":"b"}\n\n{"Id":"c"}',
      '"a string"',
      'null',
    ];
    for (const input of inputs) await expectSameAsStreaming(enc(input));
  });

  it('falls back to streaming for a malformed blob: keeps the records before the damage, then one malformed item', async () => {
    const items = await expectSameAsStreaming(enc('[{"a":1},{"b":2},{"c":'));
    expect(items.map((i) => i.kind)).toEqual(['record', 'record', 'malformed']);
    const ndjson = await expectSameAsStreaming(enc('{"a":1}\n{"b":\n{"c":3}'));
    expect(ndjson.map((i) => i.kind)).toEqual(['record', 'malformed', 'record']);
  });

  it('falls back to streaming for invalid UTF-8', async () => {
    const bytes = Buffer.concat([enc('{"a":"x"}\n{"b":"'), Uint8Array.of(0xff, 0xfe), enc('"}\n{"c":1}')]);
    const items = await expectSameAsStreaming(bytes);
    expect(items.map((i) => i.kind)).toEqual(['record', 'malformed', 'record']);
  });

  it('property: for realistic and damaged blobs, in memory and streaming agree', async () => {
    const { records } = seedRecords();
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutatedRecord(records), { maxLength: 12 }),
        fc.constantFrom('array' as const, 'ndjson' as const),
        fc.boolean(),
        fc.array(byteDamage, { maxLength: 3 }),
        fc.integer({ min: 1, max: 4096 }),
        async (batch, format, bom, changes, chunkSize) => {
          const bytes = damage(serialise(batch.map((r) => r.value), format, bom), changes);
          await expectSameAsStreaming(bytes, chunkSize, false);
        },
      ),
      { numRuns: 300 },
    );
    // 300 runs take a few seconds alone; on two cores shared with a parallel run they took over 10 s.
  }, 60_000);
});
