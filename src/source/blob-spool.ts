import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { inMemorySource } from '../parse/in-memory.ts';
import type { ByteBudget } from '../util/byte-budget.ts';

/** A downloaded blob, held in memory or in a temporary file, readable as many times as needed. */
export interface SpooledBlob {
  readonly sizeBytes: number;
  readonly onDisk: boolean;
  open(): AsyncIterable<Uint8Array>;
  /** Frees the memory or deletes the file. Safe to call twice. */
  release(): Promise<void>;
}

export interface BlobSpoolOptions {
  memory: ByteBudget;
  /** A blob past this size goes to disk even when memory is free. */
  maxInMemoryBytes: number;
  directory?: string | undefined;
  onSpill?: () => void;
}

/**
 * Downloads a blob completely before anything is published, so a transaction is never open while
 * Microsoft is slow and a failed download never leaves half a blob in Kafka. Memory stays bounded:
 * bytes come out of a shared budget; past the budget or the per-blob limit the blob continues on disk.
 */
export class BlobSpool {
  readonly #options: BlobSpoolOptions;
  #directory: Promise<string> | undefined;

  constructor(options: BlobSpoolOptions) {
    this.#options = options;
  }

  async spool(body: AsyncIterable<Uint8Array>): Promise<SpooledBlob> {
    const { memory, maxInMemoryBytes } = this.#options;
    const chunks: Uint8Array[] = [];
    let held = 0;
    const iterator = body[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) return memoryBlob(chunks, held, memory);
        const chunk = next.value;
        if (held + chunk.byteLength <= maxInMemoryBytes && memory.tryAcquire(chunk.byteLength)) {
          chunks.push(chunk);
          held += chunk.byteLength;
          continue;
        }
        chunks.push(chunk);
        const spilled = chunks.splice(0);
        memory.release(held);
        held = 0;
        return await this.#toDisk(spilled, iterator);
      }
    } catch (error) {
      memory.release(held);
      await iterator.return?.();
      throw error;
    }
  }

  async #toDisk(first: Uint8Array[], rest: AsyncIterator<Uint8Array>): Promise<SpooledBlob> {
    this.#options.onSpill?.();
    this.#directory ??= mkdtemp(join(this.#options.directory ?? tmpdir(), 'onedrive-connector-spool-'));
    const path = join(await this.#directory, `${Date.now()}-${Math.random().toString(36).slice(2)}.blob`);
    const out = createWriteStream(path);
    let size = 0;
    const write = async (chunk: Uint8Array): Promise<void> => {
      size += chunk.byteLength;
      if (!out.write(chunk)) await once(out, 'drain');
    };
    try {
      for (const chunk of first) await write(chunk);
      for (let next = await rest.next(); next.done !== true; next = await rest.next()) await write(next.value);
      out.end();
      await once(out, 'finish');
    } catch (error) {
      out.destroy();
      await rm(path, { force: true });
      throw error;
    }
    return {
      sizeBytes: size,
      onDisk: true,
      open: () => createReadStream(path, { highWaterMark: 256 * 1024 }),
      release: () => rm(path, { force: true }),
    };
  }
}

function memoryBlob(chunks: Uint8Array[], size: number, memory: ByteBudget): SpooledBlob {
  let released = false;
  return {
    sizeBytes: size,
    onDisk: false,
    // A snapshot of the chunk list: release() empties it, and a reader must not see that mid-read.
    // In memory, the parser may take the whole blob at once (the hot path, src/parse/in-memory.ts).
    open: () => inMemorySource([...chunks], size),
    release: () => {
      if (!released) {
        released = true;
        memory.release(size);
        chunks.length = 0;
      }
      return Promise.resolve();
    },
  };
}
