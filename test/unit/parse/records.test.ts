import { describe, expect, it } from 'vitest';
import { fromBuffer, parseRecords, type ParsedItem } from '../../../src/parse/records.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function collect(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, maxRecordBytes?: number): Promise<ParsedItem[]> {
  const source = (async function* () {
    for await (const c of chunks) yield c;
  })();
  const out: ParsedItem[] = [];
  for await (const item of parseRecords(source, maxRecordBytes === undefined ? {} : { maxRecordBytes })) out.push(item);
  return out;
}

/** Every way of cutting `bytes` into two chunks, plus one-byte chunks. */
function splits(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  out.push(Array.from(bytes, (b) => Uint8Array.of(b)));
  return out;
}

const records = (items: ParsedItem[]): unknown[] => items.filter((i) => i.kind === 'record').map((i) => i.value);

describe('parseRecords: JSON arrays', () => {
  it('yields each element of an array in order with indexes', async () => {
    const items = await collect([enc('[{"Id":"a"},{"Id":"b"}]')]);
    expect(items).toEqual([
      { kind: 'record', value: { Id: 'a' }, index: 0 },
      { kind: 'record', value: { Id: 'b' }, index: 1 },
    ]);
  });

  it('yields nothing for empty input, whitespace, a lone BOM or []', async () => {
    for (const input of ['', '  \n', '\uFEFF', '[]', '\uFEFF [ ] \n']) {
      expect(await collect([enc(input)]), JSON.stringify(input)).toEqual([]);
    }
  });

  it('strips a BOM at any chunk split, including first chunks shorter than 3 bytes', async () => {
    const bytes = enc('\uFEFF[{"n":"é"},{"n":"😀 x"}]');
    for (const chunks of splits(bytes)) {
      expect(records(await collect(chunks))).toEqual([{ n: 'é' }, { n: '😀 x' }]);
    }
  });

  it('survives chunk boundaries inside strings, escapes and multi-byte characters', async () => {
    const doc = [{ ObjectId: 'https://x/Dokumente/Bericht-Ü 東京 \\"q\\" 😀.docx', n: 12.5e3, t: true, z: null }];
    const bytes = enc(JSON.stringify(doc));
    for (const chunks of splits(bytes)) {
      expect(records(await collect(chunks))).toEqual(doc);
    }
  });

  it('yields the records before a truncation, then one malformed item with a byte offset', async () => {
    const items = await collect([enc('[{"a":1},{"b":2},{"c":')]);
    expect(records(items)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(items).toHaveLength(3);
    const last = items[2]!;
    expect(last.kind).toBe('malformed');
    if (last.kind === 'malformed') expect(last.detail).toMatch(/byte \d+/);
  });

  it('stops at a malformed element in the middle', async () => {
    const items = await collect([enc('[{"a":1},{"b":}, {"c":3}]')]);
    expect(records(items)).toEqual([{ a: 1 }]);
    expect(items.map((i) => i.kind)).toEqual(['record', 'malformed']);
    expect(items[1]!.index).toBe(1);
    // The item shows and locates what was not read (the dead letter's payload and detail).
    expect(items[1]).toMatchObject({ raw: ',{"b":}, {"c":3}]', detail: expect.stringMatching(/not read from stream byte 8 on$/) });
  });

  it('reports trailing garbage after the array', async () => {
    const items = await collect([enc('[{"a":1}] xx')]);
    expect(items.map((i) => i.kind)).toEqual(['record', 'malformed']);
  });

  it('flags a record above maxRecordBytes', async () => {
    const big = JSON.stringify({ s: 'x'.repeat(5000) });
    const items = await collect(fromBuffer(`[{"a":1},${big},{"b":2}]`, 512), 1000);
    expect(items.map((i) => i.kind)).toEqual(['record', 'malformed']);
    if (items[1]?.kind === 'malformed') expect(items[1].detail).toMatch(/exceeds 1000 bytes/);
  });
});

describe('parseRecords: NDJSON and single objects', () => {
  it('parses NDJSON, turning a bad line into a malformed item and continuing', async () => {
    const input = '{"a":1}\r\n{"b": oops}\n\n{"c":3}\n';
    for (const chunks of splits(enc(input))) {
      const items = await collect(chunks);
      expect(items.map((i) => i.kind)).toEqual(['record', 'malformed', 'record']);
      expect(records(items)).toEqual([{ a: 1 }, { c: 3 }]);
      const bad = items[1]!;
      if (bad.kind === 'malformed') {
        expect(bad.detail).toMatch(/^line 2 at byte 9/);
        expect(bad.raw).toBe('{"b": oops}');
      }
    }
  });

  it('keeps going when the first NDJSON line is broken', async () => {
    const items = await collect([enc('{"a": broken}\n{"b":2}\n')]);
    expect(items.map((i) => i.kind)).toEqual(['malformed', 'record']);
  });

  it('parses a single pretty-printed object with a BOM', async () => {
    const input = '\uFEFF{\n  "Id": "x",\n  "Nested": {"k": [1, 2]}\n}\n';
    for (const chunks of splits(enc(input))) {
      expect(await collect(chunks)).toEqual([{ kind: 'record', value: { Id: 'x', Nested: { k: [1, 2] } }, index: 0 }]);
    }
  });

  it('parses a single one-line object without a newline', async () => {
    expect(records(await collect([enc('{"Id":"x"}')]))).toEqual([{ Id: 'x' }]);
  });

  it('reports a truncated pretty-printed object', async () => {
    const items = await collect([enc('{\n "Id": "x",\n')]);
    expect(items.map((i) => i.kind)).toEqual(['malformed']);
  });

  it('skips an oversized NDJSON line without buffering it and continues', async () => {
    const input = `{"a":1}\n{"s":"${'y'.repeat(10_000)}"}\n{"b":2}\n`;
    const items = await collect(fromBuffer(input, 700), 2000);
    expect(items.map((i) => i.kind)).toEqual(['record', 'malformed', 'record']);
    if (items[1]?.kind === 'malformed') {
      expect(items[1].detail).toMatch(/exceeds 2000 bytes/);
      expect(items[1].raw!.length).toBeLessThanOrEqual(1024);
    }
  });

  it('marks invalid UTF-8 lines as malformed', async () => {
    const items = await collect([enc('{"a":1}\n'), Uint8Array.of(0x7b, 0xff, 0x7d, 0x0a), enc('{"b":2}')]);
    expect(items.map((i) => i.kind)).toEqual(['record', 'malformed', 'record']);
  });
});

describe('parseRecords: bounded memory', () => {
  it('streams a 50 MB generated array with flat heap', async () => {
    const record = enc(
      JSON.stringify({
        Id: '00000000-0000-0000-0000-000000000000',
        Operation: 'FileDownloaded',
        ObjectId: `https://contoso-my.sharepoint.com/personal/a_contoso_com/Documents/${'f'.repeat(300)}.docx`,
      }),
    );
    const target = 50 * 1024 * 1024;
    const perChunk = 100;
    const chunk = new Uint8Array((record.length + 1) * perChunk);
    for (let i = 0; i < perChunk; i++) {
      chunk.set(record, i * (record.length + 1));
      chunk[i * (record.length + 1) + record.length] = 0x2c; // ','
    }
    let produced = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      yield enc('[');
      while (produced < target) {
        produced += chunk.length;
        await new Promise(setImmediate); // a real download yields to the event loop between chunks
        yield chunk;
      }
      yield record;
      yield enc(']');
    }
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let count = 0;
    let peak = before;
    for await (const item of parseRecords(source())) {
      if (item.kind !== 'record') throw new Error(`unexpected ${JSON.stringify(item)}`);
      count++;
      if (count % 20_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    expect(count).toBe((produced / chunk.length) * perChunk + 1);
    // The input is 50 MB; holding even a fraction of it would exceed this.
    expect(peak - before).toBeLessThan(40 * 1024 * 1024);
  }, 60_000);
});
