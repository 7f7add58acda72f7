import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobSpool } from '../../../src/source/blob-spool.ts';
import { ByteBudget } from '../../../src/util/byte-budget.ts';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'blob-spool-test-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function* chunksOf(data: Uint8Array, size: number, failAfter?: number): AsyncGenerator<Uint8Array> {
  let served = 0;
  for (let at = 0; at < data.length; at += size) {
    if (failAfter !== undefined && served >= failAfter) throw new Error('connection reset mid-body');
    served += 1;
    await Promise.resolve();
    yield data.subarray(at, Math.min(at + size, data.length));
  }
}

async function readAll(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of source) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** Spool files anywhere under the test directory (the spool makes its own sub-directory). */
async function spoolFiles(): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('BlobSpool (DESIGN invariant 3: memory bounded by configuration)', () => {
  it('keeps a small blob in memory, charged to the budget until release', async () => {
    const memory = new ByteBudget(1_000);
    let spills = 0;
    const spool = new BlobSpool({ memory, maxInMemoryBytes: 500, directory, onSpill: () => (spills += 1) });
    const data = randomBytes(300);

    const blob = await spool.spool(chunksOf(data, 64));

    expect(blob.onDisk).toBe(false);
    expect(blob.sizeBytes).toBe(300);
    expect(memory.used).toBe(300);
    // Readable more than once (a retried delivery reads it again).
    expect((await readAll(blob.open())).equals(data)).toBe(true);
    expect((await readAll(blob.open())).equals(data)).toBe(true);
    await blob.release();
    expect(memory.used).toBe(0);
    await blob.release();
    expect(memory.used).toBe(0);
    expect(spills).toBe(0);
    expect(await spoolFiles()).toEqual([]);
  });

  it('spools a blob over maxInMemoryBytes to disk, returns its bytes intact and deletes the file on release', async () => {
    const memory = new ByteBudget(1_000_000);
    let spills = 0;
    const spool = new BlobSpool({ memory, maxInMemoryBytes: 1_000, directory, onSpill: () => (spills += 1) });
    const data = randomBytes(50_000);

    const blob = await spool.spool(chunksOf(data, 777));

    expect(blob.onDisk).toBe(true);
    expect(blob.sizeBytes).toBe(50_000);
    expect(memory.used).toBe(0);
    expect(spills).toBe(1);
    expect(await spoolFiles()).toHaveLength(1);
    expect((await readAll(blob.open())).equals(data)).toBe(true);
    await blob.release();
    expect(await spoolFiles()).toEqual([]);
    await blob.release();
  });

  it('spools to disk when the shared budget is used up, even for a small blob', async () => {
    const memory = new ByteBudget(1_000);
    const spool = new BlobSpool({ memory, maxInMemoryBytes: 10_000, directory });
    const first = await spool.spool(chunksOf(randomBytes(800), 100));
    const data = randomBytes(500);

    const second = await spool.spool(chunksOf(data, 100));

    expect(first.onDisk).toBe(false);
    expect(second.onDisk).toBe(true);
    // What the second blob held before spilling went back to the budget.
    expect(memory.used).toBe(800);
    expect((await readAll(second.open())).equals(data)).toBe(true);
    await second.release();
    await first.release();
    expect(memory.used).toBe(0);
    expect(await spoolFiles()).toEqual([]);
  });

  it('releases the budget when the body fails while still in memory', async () => {
    const memory = new ByteBudget(1_000_000);
    const spool = new BlobSpool({ memory, maxInMemoryBytes: 1_000_000, directory });

    await expect(spool.spool(chunksOf(randomBytes(10_000), 1_000, 4))).rejects.toThrow('connection reset mid-body');

    expect(memory.used).toBe(0);
    expect(await spoolFiles()).toEqual([]);
  });

  it('leaves no file and no budget behind when the body fails after spilling to disk', async () => {
    const memory = new ByteBudget(1_000_000);
    const spool = new BlobSpool({ memory, maxInMemoryBytes: 2_000, directory });

    await expect(spool.spool(chunksOf(randomBytes(100_000), 1_000, 40))).rejects.toThrow('connection reset mid-body');

    expect(memory.used).toBe(0);
    expect(await spoolFiles()).toEqual([]);
  });

  it('handles an empty body as an empty in-memory blob', async () => {
    const memory = new ByteBudget(10);
    const spool = new BlobSpool({ memory, maxInMemoryBytes: 10, directory });
    const blob = await spool.spool(chunksOf(new Uint8Array(0), 1));
    expect(blob.onDisk).toBe(false);
    expect(blob.sizeBytes).toBe(0);
    expect((await readAll(blob.open())).length).toBe(0);
    await blob.release();
    expect(memory.used).toBe(0);
  });
});
