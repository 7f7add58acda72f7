import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/contracts/errors.ts';
import { BlobSpool, probeSpoolDirectory, SPOOL_UNAVAILABLE } from '../../../src/source/blob-spool.ts';
import { ByteBudget } from '../../../src/util/byte-budget.ts';

async function* body(bytes: Buffer): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += 1000) {
    await Promise.resolve();
    yield bytes.subarray(at, at + 1000);
  }
}

async function readAll(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

/** Item 4 of issue 13: an unusable spool directory is a clear, retriable error that heals by itself. */
describe('BlobSpool when the spool directory cannot be written', () => {
  let scratch: string;
  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'spool-failure-test-'));
  });
  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('fails with SPOOL_UNAVAILABLE naming the directory, then recovers once it can write (no cached failure)', async () => {
    const directory = join(scratch, 'spool');
    // The case: the configured directory sits under a regular file (ENOTDIR).
    await writeFile(directory, 'not a directory');
    const events: boolean[] = [];
    const memory = new ByteBudget(1_000_000);
    const spool = new BlobSpool({ memory, maxInMemoryBytes: 2_000, directory: join(directory, 'sub'), onDiskTrouble: (failing) => events.push(failing) });
    const data = randomBytes(20_000);

    const error = await spool.spool(body(data)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).code).toBe(SPOOL_UNAVAILABLE);
    expect((error as ConnectorError).retriable).toBe(true);
    expect((error as ConnectorError).message).toContain(join(directory, 'sub'));
    expect((error as ConnectorError).message).toContain('ENOTDIR');
    expect(spool.problem()?.code).toBe(SPOOL_UNAVAILABLE);
    expect(memory.used).toBe(0);
    // Still failing: the second attempt tries again (and fails again), it does not replay a cached result.
    await expect(spool.spool(body(data))).rejects.toThrow(/ENOTDIR/);

    await rm(directory);
    await mkdir(join(directory, 'sub'), { recursive: true });
    const blob = await spool.spool(body(data));
    expect(blob.onDisk).toBe(true);
    expect((await readAll(blob.open())).equals(data)).toBe(true);
    await blob.release();
    expect(spool.problem()).toBeUndefined();
    expect(events).toEqual([true, true, false]);
  });

  it('starts a new temporary directory at once when the one in use was removed', async () => {
    const events: boolean[] = [];
    const spool = new BlobSpool({ memory: new ByteBudget(1_000_000), maxInMemoryBytes: 2_000, directory: scratch, onDiskTrouble: (failing) => events.push(failing) });
    const first = await spool.spool(body(randomBytes(10_000)));
    await first.release();
    // Something (tmp cleaner, an operator) removed the spool's own directory.
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch);
    const again = await spool.spool(body(randomBytes(10_000)));
    expect(events).toEqual([]);
    expect(again.onDisk).toBe(true);
    await again.release();
    expect(spool.problem()).toBeUndefined();
  });

  it('probeSpoolDirectory: passes on a writable directory, names the problem otherwise', async () => {
    await expect(probeSpoolDirectory(scratch, 1)).resolves.toBeUndefined();
    await writeFile(join(scratch, 'file'), 'x');
    await expect(probeSpoolDirectory(join(scratch, 'file'), 1)).rejects.toThrow(/Cannot write to the spool directory .*file.*ENOTDIR/);
    await expect(probeSpoolDirectory(join(scratch, 'missing'), 1)).rejects.toThrow(/ENOENT/);
    await expect(probeSpoolDirectory(scratch, Number.MAX_SAFE_INTEGER)).rejects.toThrow(/bytes free, less than connector.maxInMemoryBlobBytes/);
  });
});
