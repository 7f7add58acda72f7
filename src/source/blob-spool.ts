import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { ConnectorError } from '../contracts/errors.ts';
import type { ByteBudget } from '../util/byte-budget.ts';

/** The spool directory cannot be written (missing, not a directory, read-only, disk full). Retriable: it heals when the disk does. */
export const SPOOL_UNAVAILABLE = 'SPOOL_UNAVAILABLE';

const SPOOL_PREFIX = 'onedrive-connector-spool-';

function spoolError(directory: string, error: unknown): ConnectorError {
  const code = (error as NodeJS.ErrnoException).code;
  return new ConnectorError(SPOOL_UNAVAILABLE, `Cannot write to the spool directory ${directory}: ${code ?? ''} ${(error as Error).message}`.replace('  ', ' '), {
    stage: 'download',
    retriable: true,
    cause: error,
  });
}

/**
 * Checked by `config check` and at start-up: the directory takes a file, and has room for at least
 * `minFreeBytes` (one blob past the in-memory limit). Throws a SPOOL_UNAVAILABLE ConnectorError.
 */
export async function probeSpoolDirectory(directory: string | undefined, minFreeBytes: number): Promise<void> {
  const base = directory ?? tmpdir();
  let dir: string | undefined;
  try {
    dir = await mkdtemp(join(base, SPOOL_PREFIX));
    await writeFile(join(dir, 'probe'), 'ok');
    const fs = await statfs(dir);
    const free = fs.bavail * fs.bsize;
    if (free < minFreeBytes) {
      throw Object.assign(new Error(`only ${free} bytes free, less than connector.maxInMemoryBlobBytes (${minFreeBytes})`), { code: 'ENOSPC' });
    }
  } catch (error) {
    throw spoolError(base, error);
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

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
  /** A write to disk failed (true) or worked again after a failure (false): for metrics and readiness. */
  onDiskTrouble?: (failing: boolean) => void;
}

/**
 * Downloads a blob completely before anything is published, so a transaction is never open while
 * Microsoft is slow and a failed download never leaves half a blob in Kafka. Memory stays bounded:
 * bytes come out of a shared budget; past the budget or the per-blob limit the blob continues on disk.
 */
export class BlobSpool {
  readonly #options: BlobSpoolOptions;
  #directory: Promise<string> | undefined;
  #problem: ConnectorError | undefined;

  constructor(options: BlobSpoolOptions) {
    this.#options = options;
  }

  /** The last disk failure, until a blob reaches the disk again; undefined while the spool works. */
  problem(): ConnectorError | undefined {
    return this.#problem;
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
    const base = this.#options.directory ?? tmpdir();
    let path: string;
    let out: ReturnType<typeof createWriteStream>;
    try {
      ({ path, out } = await this.#openFile(base));
    } catch (error) {
      await rest.return?.();
      throw this.#failed(base, error);
    }
    let size = 0;
    let writeError: Error | undefined;
    out.on('error', (error) => (writeError ??= error));
    const write = async (chunk: Uint8Array): Promise<void> => {
      size += chunk.byteLength;
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(out, 'close')]);
      if (writeError !== undefined) throw writeError;
    };
    try {
      for (const chunk of first) await write(chunk);
      for (let next = await rest.next(); next.done !== true; next = await rest.next()) await write(next.value);
      out.end();
      await once(out, 'finish');
    } catch (error) {
      // Read before destroy(): destroying a stream with writes pending reports an error of its own.
      const diskError = writeError;
      out.destroy();
      await rm(path, { force: true });
      throw diskError === undefined ? error : this.#failed(base, diskError);
    }
    if (this.#problem !== undefined) {
      this.#problem = undefined;
      this.#options.onDiskTrouble?.(false);
    }
    return {
      sizeBytes: size,
      onDisk: true,
      open: () => createReadStream(path, { highWaterMark: 256 * 1024 }),
      release: () => rm(path, { force: true }),
    };
  }

  /**
   * A new file in the spool's temporary directory. Only a directory that was created is kept (a failed
   * mkdtemp is tried again next time); one that vanished since (a tmp cleaner, a remount) is replaced
   * at once by a new one.
   */
  async #openFile(base: string): Promise<{ path: string; out: ReturnType<typeof createWriteStream> }> {
    for (let attempt = 1; ; attempt += 1) {
      const reused = this.#directory !== undefined;
      const directory = (this.#directory ??= mkdtemp(join(base, SPOOL_PREFIX)));
      try {
        const path = join(await directory, `${Date.now()}-${Math.random().toString(36).slice(2)}.blob`);
        const out = createWriteStream(path);
        await once(out, 'open');
        return { path, out };
      } catch (error) {
        if (this.#directory === directory) this.#directory = undefined;
        if (!reused || attempt >= 2) throw error;
      }
    }
  }

  #failed(base: string, error: unknown): ConnectorError {
    const mapped = error instanceof ConnectorError ? error : spoolError(base, error);
    this.#problem = mapped;
    this.#options.onDiskTrouble?.(true);
    return mapped;
  }
}

function memoryBlob(chunks: Uint8Array[], size: number, memory: ByteBudget): SpooledBlob {
  let released = false;
  return {
    sizeBytes: size,
    onDisk: false,
    // A snapshot of the chunk list: release() empties it, and a reader must not see that mid-read.
    open: () => toAsync([...chunks]),
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

function toAsync(chunks: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => {
      let index = 0;
      return {
        next: () => Promise.resolve(index < chunks.length ? { done: false as const, value: chunks[index++]! } : { done: true as const, value: undefined }),
      };
    },
  };
}
